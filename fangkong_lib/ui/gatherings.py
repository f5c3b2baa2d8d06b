"""Gatherings (聚集管控: 红白事报备审批与联合执法): the view of :class:`GatheringsModel`.

Filters, KPI cards (each opens the rows it counts), the map, the reports with
their 不符合项, the joint team's log, and the forms: report a wedding or a
funeral (its breaches are named at once), the village's and the township's
decision, an enforcement action. The model lives in
:mod:`fangkong_lib.ui.models.gatherings` (no widgets).
"""

from __future__ import annotations

import ipywidgets as w

from ..domain.gatherings import KPI_LABELS
from ..ledgers import ENFORCEMENT_ACTIONS, ENFORCEMENT_TARGETS, ENFORCEMENT_UNITS
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.gatherings import KINDS, GatheringsModel

__all__ = ["GatheringsModel", "GatheringsPage"]


class GatheringsPage(PageView):
    """The gatherings dashboard: filters, KPIs, map, reports, enforcement
    log, forms (report, approve/refuse as village or township, enforcement)."""

    title = "聚集管控"
    model_class = GatheringsModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人（审批时记为审批人）"
    extra_css = "<style>.fk-breaches{font-size:14px;margin:4px 0}.fk-gatherings td,.fk-enforcements td{text-align:left}</style>"

    def build(self) -> None:
        m = self.model
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "200px"), "village")
        self._kind = self.bind(labelled(w.Dropdown(options=m.kind_options, description="类型"), "fk-filter-kind",
                                        "170px"), "kind")
        self._state = self.bind(labelled(w.Dropdown(options=m.state_options, description="审批"), "fk-filter-state",
                                         "200px"), "state")
        self._breaches = self.bind(labelled(w.Checkbox(description="只看不符合项", indent=False),
                                            "fk-filter-breaches", "140px"), "breaches_only")
        self._query = self.bind(labelled(w.Text(description="查找", placeholder="事主、地点、监管员",
                                                continuous_update=False), "fk-filter-query", "240px"), "query")
        self._day = self.bind(labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px"), "day")
        self._map = self.map_frame()
        self._table = self.html_view("table_html", "fk-gatherings-table")
        self._log = self.html_view("enforcement_html", "fk-enforcement-log")
        self._note = self.html_view("breaches_html", "fk-report-breaches")
        self._report_form = self._build_report_form()
        self._review_form = self._build_review_form()
        self._enforce_form = self._build_enforcement_form()
        m.observe(self._sync_choices, names=["pending_options", "gathering_options"])
        self._sync_choices()

    def filter_bar(self):
        return [row(self._village, self._kind, self._state, self._breaches, self._query, self._day)]

    def export_bar(self):
        m = self.model
        return [self.rows_export(lambda: ("gatherings", m.rows_for_export()),
                                 lambda: f"红白事报备{'-' + m.village if m.village else ''}"),
                self.rows_export(lambda: ("enforcements", m.enforcements), lambda: "联合执法记录"),
                self.map_export(lambda: f"红白事与联合执法分布图_{m.day.isoformat()}")]

    def body(self):
        return [self._map, section("红白事报备（不符合项按 policy/gatherings.toml 的规定核对）"), self._table,
                section("联合执法记录"), self._log]

    def forms(self):
        return [section("报备、审批与执法"), self._report_form, self._note, self._review_form, self._enforce_form]

    # -- Forms ----------------------------------------------------------------------------

    def _build_report_form(self) -> w.VBox:
        m = self.model
        today = m.data.today
        self._r = r = {
            "host": labelled(w.Text(description="事主"), "fk-rep-host", "180px"),
            "phone": labelled(w.Text(description="电话"), "fk-rep-phone", "200px"),
            "village": labelled(w.Dropdown(options=m.data.village_names, description="村"), "fk-rep-village",
                                "180px"),
            "kind": labelled(w.Dropdown(options=list(KINDS), description="类型"), "fk-rep-kind", "140px"),
            "date": labelled(w.DatePicker(description="举办日期"), "fk-rep-date", "220px"),
            "place": labelled(w.Text(description="地点"), "fk-rep-place", "220px"),
            "expected_people": labelled(w.IntText(description="预计人数", value=0), "fk-rep-people", "160px"),
            "tables": labelled(w.IntText(description="桌数", value=0), "fk-rep-tables", "130px"),
            "outside_guests": labelled(w.IntText(description="外地来客", value=0), "fk-rep-outside", "160px"),
            "supervisor": labelled(w.Text(description="监管员"), "fk-rep-supervisor", "180px"),
            "pledge": labelled(w.Checkbox(description="已签承诺书", value=True, indent=False), "fk-rep-pledge", "120px"),
            "supervised": labelled(w.Checkbox(description="村干部全程监管", indent=False), "fk-rep-supervised",
                                   "150px"),
            "separate_meals": labelled(w.Checkbox(description="分餐", indent=False), "fk-rep-meals", "90px"),
        }
        self._rep_day = labelled(w.DatePicker(description="报备日期", value=today), "fk-rep-reported-day", "220px")
        self._rep_clock = labelled(w.Text(description="时刻", placeholder="09:00"), "fk-rep-reported-clock", "130px")
        self._died_day = labelled(w.DatePicker(description="去世日期（白事）"), "fk-rep-died-day", "260px")
        self._died_clock = labelled(w.Text(description="时刻", placeholder="06:00"), "fk-rep-died-clock", "130px")
        self._report = w.Button(description="保存报备", button_style="danger", icon="save").add_class("fk-rep-save")
        self._report.on_click(self._on_report)
        return form_box("红白事报备（保存后即核对：报备时限、人数、每桌人数、监管、分餐、承诺书）", [
            row(r["host"], r["phone"], r["village"], r["kind"], r["date"], r["place"]),
            row(r["expected_people"], r["tables"], r["outside_guests"], r["supervisor"], r["pledge"]),
            row(self._rep_day, self._rep_clock, self._died_day, self._died_clock, r["supervised"],
                r["separate_meals"]),
            self._report,
        ], "fk-report-form")

    def _build_review_form(self) -> w.VBox:
        self._pending = labelled(w.Dropdown(description="报备"), "fk-rev-gathering", "460px")
        self._level = labelled(w.ToggleButtons(options=[("村审批", "村"), ("乡审批", "乡")], value="村"),
                               "fk-rev-level")
        self._reason = labelled(w.Text(description="不予批准理由"), "fk-rev-reason", "360px")
        self._approve = w.Button(description="批准", button_style="success", icon="check").add_class("fk-rev-approve")
        self._refuse = w.Button(description="不予批准", button_style="warning", icon="times").add_class(
            "fk-rev-refuse")
        self._approve.on_click(lambda _b: self._on_review(True))
        self._refuse.on_click(lambda _b: self._on_review(False))
        return form_box("审批（先村后乡；不符合防控规定的不能批准）", [
            row(self._pending, self._level),
            row(self._reason, self._approve, self._refuse),
        ], "fk-review-form")

    def _build_enforcement_form(self) -> w.VBox:
        m = self.model
        self._e_type = labelled(w.Dropdown(options=list(ENFORCEMENT_TARGETS), description="对象类型"),
                                "fk-enf-type", "190px")
        self._e_gathering = labelled(w.Dropdown(description="红白事"), "fk-enf-gathering", "420px")
        self._e_place = labelled(w.Dropdown(options=m.place_options, description="场所"), "fk-enf-place", "420px")
        self._e = e = {
            "target": labelled(w.Text(description="聚集地点"), "fk-enf-target", "240px"),
            "village": labelled(w.Dropdown(options=m.data.village_names, description="村"), "fk-enf-village",
                                "180px"),
            "unit": labelled(w.Dropdown(options=list(ENFORCEMENT_UNITS), description="执法单位"), "fk-enf-unit",
                             "190px"),
            "action": labelled(w.Dropdown(options=list(ENFORCEMENT_ACTIONS), description="处置措施"),
                               "fk-enf-action", "190px"),
            "people": labelled(w.IntText(description="涉及人数", value=0), "fk-enf-people", "160px"),
            "description": labelled(w.Text(description="情况描述"), "fk-enf-description", "360px"),
            "officers": labelled(w.Text(description="执法人员"), "fk-enf-officers", "220px"),
            "result": labelled(w.Text(description="处置结果"), "fk-enf-result", "240px"),
        }
        self._e_type.observe(self._on_target_type, names="value")
        self._enforce = w.Button(description="登记执法", button_style="danger", icon="gavel").add_class("fk-enf-save")
        self._enforce.on_click(self._on_enforce)
        self._on_target_type()
        m.observe(lambda _c: setattr(self._e_place, "options", m.place_options), names=["village"])
        return form_box("联合执法（派出所、综治办、执法大队、村）", [
            row(self._e_type, self._e_gathering, self._e_place, e["target"], e["village"]),
            row(e["unit"], e["action"], e["people"], e["officers"]),
            row(e["description"], e["result"]),
            self._enforce,
        ], "fk-enforcement-form")

    # -- Wiring ---------------------------------------------------------------------------

    def _sync_choices(self, _change=None):
        for dropdown, options in ((self._pending, self.model.pending_options),
                                  (self._e_gathering, self.model.gathering_options)):
            if list(dropdown.options) != options:
                dropdown.options = options
                dropdown.value = options[0][1] if options else None

    def _on_target_type(self, _change=None):
        kind = self._e_type.value
        self._e_gathering.layout.display = "" if kind == "红白事" else "none"
        self._e_place.layout.display = "" if kind == "重点场所" else "none"
        self._e["target"].layout.display = "" if kind == "其他聚集" else "none"
        self._e["village"].layout.display = "" if kind == "其他聚集" else "none"

    def _on_report(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._r.items()}
        ok = self.model.report(raw, reported=(self._rep_day.value, self._rep_clock.value),
                               deceased=(self._died_day.value, self._died_clock.value))
        if ok:
            for key in ("host", "phone", "place"):
                self._r[key].value = ""

    def _on_review(self, approve: bool):
        if self.model.review(self._pending.value, self._level.value, approve=approve,
                             reason=self._reason.value.strip()):
            self._reason.value = ""

    def _on_enforce(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._e.items()}
        raw.update(target_type=self._e_type.value, place_code=self._e_place.value)
        if self.model.log_enforcement(raw, gathering=self._e_gathering.value):
            for key in ("description", "result"):
                self._e[key].value = ""
