"""Key places (重点场所, gate 4): the view of :class:`PlacesModel`.

Filters, KPI cards (each opens the places it counts), map, table, the
inspection form and printable venue codes. The model lives in
:mod:`fangkong_lib.ui.models.places` (no widgets).
"""

from __future__ import annotations

import base64

import ipywidgets as w

from ..domain.places import CHECKLIST, KPI_LABELS
from ..views.html import Markup, html
from .base import PageView, safe_html
from .forms import download_link, form_box, labelled, row, section
from .models.places import ACTIONS, PlacesModel

__all__ = ["PlacesModel", "PlacesPage"]


class PlacesPage(PageView):
    """The key-places dashboard: filters, KPIs, map, table, inspection form,
    printable venue codes, status line."""

    title = "重点场所"
    model_class = PlacesModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人"

    def build(self) -> None:
        m = self.model
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "200px"), "village")
        self._category = self.bind(labelled(w.Dropdown(options=m.category_options, description="类别"),
                                            "fk-filter-category", "200px"), "category")
        self._item = self.bind(labelled(w.Dropdown(options=m.item_options, description="检查项"), "fk-filter-item",
                                        "280px"), "item")
        self._pstatus = self.bind(labelled(w.Dropdown(options=m.status_options, description="状态"),
                                           "fk-filter-status", "200px"), "place_status")
        self._overdue = self.bind(labelled(w.Checkbox(description="只看逾期未复查", indent=False),
                                           "fk-filter-overdue", "150px"), "overdue")
        self._query = self.bind(labelled(w.Text(description="查找", placeholder="场所名称、编号、负责人",
                                                continuous_update=False), "fk-filter-query", "260px"), "query")
        self._day = self.bind(labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px"), "day")
        self._map = self.map_frame()
        self._table = self.html_view("table_html", "fk-places-table")
        # The place the forms act on: one of the filtered places.
        self._place = labelled(w.Dropdown(description="场所"), "fk-place-select", "420px")
        self._place.observe(self._on_place, names="value")
        self._inspection = self._build_inspection_form()
        self._print = w.Button(description="打印场所码", icon="qrcode").add_class("fk-print-code")
        self._print.on_click(self._on_print)
        self._code_out = w.HTML().add_class("fk-code-preview")
        m.observe(self._sync_places, names=["place_options"])
        self._sync_places()
        self._insp_day.value = m.day

    def filter_bar(self):
        return [row(self._village, self._category, self._item, self._pstatus, self._overdue, self._query,
                    self._day)]

    def export_bar(self):
        m = self.model

        def rows():
            places = m.data.ledgers["places"]
            return "places", places[places["code"].isin(m.table["code"] if len(m.table) else [])]

        return [self.rows_export(rows, lambda: f"重点场所{'-' + m.village if m.village else ''}"),
                self.map_export(lambda: f"重点场所分布图_{m.day.isoformat()}")]

    def body(self):
        return [self._map, section("场所列表"), self._table]

    def forms(self):
        printing = form_box("场所码", [self._print, self._code_out], "fk-print-form")
        return [section("检查与场所码"), self._place,
                w.HBox([self._inspection, printing], layout=w.Layout(align_items="flex-start")).add_class("fk-gap")]

    def _build_inspection_form(self) -> w.VBox:
        """The inspection form (DOMAIN.md §2 checklist)."""
        self._checks, cells = {}, []
        for key, label in CHECKLIST.items():
            toggle = w.ToggleButtons(options=[("落实", True), ("未落实", False)], style={"button_width": "64px"})
            toggle.index = None
            toggle.add_class("fk-check")
            toggle.add_class(f"fk-check-{key}")
            self._checks[key] = toggle
            cells.append(w.HBox([safe_html("<span class='fk-check-label'>{label}</span>", label=label), toggle]))
        checklist = w.Box(cells).add_class("fk-checklist")
        self._all_ok = w.Button(description="全部落实", icon="check").add_class("fk-check-all")
        self._all_ok.on_click(self._set_all_ok)
        self._insp_day = labelled(w.DatePicker(description="检查日期"), "fk-insp-date", "230px")
        self._action = labelled(w.Dropdown(options=[("按检查项自动", "")] + [(a, a) for a in ACTIONS],
                                           description="处理"), "fk-insp-action", "230px")
        self._deadline = labelled(w.DatePicker(description="整改期限"), "fk-insp-deadline", "230px")
        self._scans = labelled(w.IntText(description="当日扫码人次", value=0), "fk-insp-scans", "200px")
        self._inspector = labelled(w.Text(description="检查人", placeholder="默认为操作人"), "fk-insp-inspector",
                                   "220px")
        self._findings = labelled(w.Text(description="发现问题", placeholder="默认按未落实项填写"),
                                  "fk-insp-findings", "420px")
        self._save = w.Button(description="保存检查记录", button_style="danger", icon="save").add_class("fk-insp-save")
        self._save.on_click(self._on_save)
        return form_box("记录检查（未落实的每一项自动新开一个整改问题）", [
            row(self._insp_day, self._all_ok),
            checklist,
            row(self._action, self._deadline, self._scans),
            row(self._inspector, self._findings),
            self._save,
        ], "fk-inspection-form")

    def _sync_places(self, _change=None):
        options = self.model.place_options
        if list(self._place.options) != options:
            current = self._place.value
            self._place.options = options
            codes = [c for _, c in options]
            self._place.value = current if current in codes else (codes[0] if codes else None)

    def _on_place(self, _change=None):
        code = self._place.value
        applies = set(self.model.checklist_for(code)) if code else set(CHECKLIST)
        for key, toggle in self._checks.items():
            toggle.disabled = key not in applies
            if key not in applies:
                toggle.index = None
        self._code_out.value = ""

    def _set_all_ok(self, _b=None):
        for toggle in self._checks.values():
            if not toggle.disabled:
                toggle.value = True

    def _on_save(self, _b=None):
        code = self._place.value
        if not code:
            self.say("操作未完成：请先选择场所", True)
            return
        checks = {k: toggle.value for k, toggle in self._checks.items() if not toggle.disabled}
        ok = self.model.record_inspection(
            code, checks, day=self._insp_day.value, action=self._action.value, deadline=self._deadline.value,
            scans_today=self._scans.value, inspector=self._inspector.value.strip(), findings=self._findings.value.strip())
        if ok:
            for toggle in self._checks.values():
                toggle.index = None
            self._findings.value = ""

    def _on_print(self, _b=None):
        code = self._place.value
        try:
            if not code:
                raise ValueError("请先选择场所")
            name, png = self.model.place_code(code)
        except Exception as exc:  # shown: Voilà hides tracebacks
            self.say(f"操作未完成：{exc}", True)
            return
        link = download_link(name, png, "image/png", "fk-code-link", f"下载 {name}")
        self._code_out.value = str(html("{link}<br><img alt='场所码' src='data:image/png;base64,{png}'>",
                                        link=Markup(link), png=base64.b64encode(png).decode()))
