"""The 24 h checkpoints (卡口值守, gate 6): the view of :class:`CheckpointsModel`.

Filters (date, hour, checkpoint, shift, 处置结果), KPI cards (each opens the
rows it counts), the map of checkpoints with the day's flows, who is on duty
now, the day's roster with its gaps, flows per checkpoint and hour, the logs
and the unregistered arrivals; forms to assign a person to a shift (or take
them off) and to record a log row. The model lives in
:mod:`fangkong_lib.ui.models.checkpoints`.
"""

from __future__ import annotations

import ipywidgets as w

from ..ledgers import HEALTH_CODES, get_ledger
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.checkpoints import KPI_LABELS, OUTCOMES, CheckpointsModel, shift_help

__all__ = ["CheckpointsModel", "CheckpointsPage"]

CSS = """
<style>
.fk-roster td:last-child{text-align:left}
.fk-roster td.fk-gap-cell{color:#b8322a;font-weight:bold}
.fk-cp-logs td,.fk-roster td,.fk-cp-leads td{text-align:left}
.fk-cp-leads td.fk-gap-cell{color:#b8322a;font-weight:bold}
</style>
"""


def _choice(options, value=""):
    return [("（未填）", "")] + [(o, o) for o in options]


class CheckpointsPage(PageView):
    """The checkpoint dashboard."""

    title = "卡口值守"
    model_class = CheckpointsModel
    kpi_labels = KPI_LABELS
    operator_note = "排班、登记前请填写操作人"
    extra_css = CSS

    def build(self) -> None:
        m = self.model
        self._day = self.bind(labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px"), "day")
        self._hour = self.bind(labelled(w.Dropdown(options=[(f"{h:02d}:00", h) for h in range(24)],
                                                   description="时刻"), "fk-filter-hour", "150px"), "hour")
        self._checkpoint = self.bind(labelled(w.Dropdown(options=m.checkpoint_options, description="卡口"),
                                              "fk-filter-checkpoint", "260px"), "checkpoint")
        self._shift = self.bind(labelled(w.Dropdown(options=m.shift_options, description="班次"),
                                         "fk-filter-shift", "260px"), "shift")
        self._outcome = self.bind(labelled(w.Dropdown(options=m.outcome_options, description="处置结果"),
                                           "fk-filter-outcome", "220px"), "outcome")
        self._map = self.map_frame()
        self._now = self.html_view("now_html", "fk-cp-now")
        self._roster = self.html_view("roster_html", "fk-cp-roster")
        self._flows = self.html_view("flows_html", "fk-cp-flows-box")
        self._hours = self.html_view("hours_html", "fk-cp-hours-box")
        self._logs = self.html_view("logs_html", "fk-cp-logs-box")
        self._leads = self.html_view("leads_html", "fk-cp-leads-box")
        self._assign_form = self._build_assign_form()
        self._log_form = self._build_log_form()

    def filter_bar(self):
        return [row(self._day, self._hour, self._checkpoint, self._shift, self._outcome)]

    def export_bar(self):
        m = self.model

        def logs():
            return "checkpoint_logs", m.logs[get_ledger("checkpoint_logs").columns] if len(m.logs) else m.logs

        def shifts():
            rows = m.data.ledgers["duty_shifts"]
            keep = rows["date"].dt.date.eq(m.day) & rows["post"].isin(m.roster["post"]) & (
                rows["shift"].isin(m.roster["shift"]))
            return "duty_shifts", rows[keep]

        stem = lambda what: f"{what}_{m.day.isoformat()}{'-' + m.checkpoint if m.checkpoint else ''}"  # noqa: E731
        return [self.rows_export(logs, lambda: stem("卡点登记")), self.rows_export(shifts, lambda: stem("卡口排班")),
                self.map_export(lambda: f"卡口值守图_{m.day.isoformat()}")]

    def body(self):
        return [
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="55%")),
                w.VBox([section("各卡口通行（当日）"), self._flows],
                       layout=w.Layout(width="45%", padding="0 0 0 12px")),
            ]),
            section("当前在岗（所选时刻的班次）"), self._now,
            section("当日排班（缺员标红）"), self._roster,
            section("卡口产生的线索（未报备且进入本乡）与核查状态"), self._leads,
            section("查验记录"), self._logs,
            section("分时段查验人数"), self._hours,
        ]

    def forms(self):
        return [section("排班与登记"), self._assign_form, self._log_form]

    # -- Forms ----------------------------------------------------------------------------

    def _build_assign_form(self) -> w.VBox:
        m = self.model
        self._a = a = {
            "day": labelled(w.DatePicker(description="日期", value=m.day), "fk-assign-date", "220px"),
            "post": labelled(w.Dropdown(options=m.checkpoint_options[1:], description="卡口"), "fk-assign-post",
                             "260px"),
            "shift": labelled(w.Dropdown(options=m.shift_options[1:], description="班次"), "fk-assign-shift",
                              "260px"),
            "name": labelled(w.Text(description="姓名"), "fk-assign-name", "180px"),
            "phone": labelled(w.Text(description="联系电话"), "fk-assign-phone", "220px"),
            "role": labelled(w.Dropdown(options=m.role_options, description="身份"), "fk-assign-role", "170px"),
            "note": labelled(w.Text(description="备注"), "fk-assign-note", "240px"),
        }
        self._a_save = w.Button(description="排班", button_style="success", icon="user-plus").add_class(
            "fk-assign-save")
        self._a_save.on_click(self._on_assign)
        self._a_off = labelled(w.Dropdown(description="撤下"), "fk-unassign-name", "200px")
        self._a_remove = w.Button(description="撤下此人", icon="user-times").add_class("fk-unassign-save")
        self._a_remove.on_click(self._on_unassign)
        for key in ("day", "post", "shift"):
            a[key].observe(self._sync_people, names="value")
        self.model.observe(self._sync_people, names=["roster_html"])
        self._sync_people()
        return form_box(f"卡口排班（{shift_help()}）", [
            row(a["day"], a["post"], a["shift"]),
            row(a["name"], a["phone"], a["role"], a["note"]),
            row(self._a_save, self._a_off, self._a_remove),
        ], "fk-assign-form")

    def _build_log_form(self) -> w.VBox:
        m = self.model
        villages = m.data.village_names
        self._l = f = {
            "time": labelled(w.Text(description="检查时间", placeholder="2022-04-07 14:30"), "fk-log-time", "260px"),
            "checkpoint": labelled(w.Dropdown(options=m.checkpoint_options[1:], description="卡点"),
                                   "fk-log-checkpoint", "260px"),
            "name": labelled(w.Text(description="姓名"), "fk-log-name", "180px"),
            "id_number": labelled(w.Text(description="身份证号"), "fk-log-id", "300px"),
            "phone": labelled(w.Text(description="手机号"), "fk-log-phone", "220px"),
            "plate": labelled(w.Text(description="车牌号"), "fk-log-plate", "180px"),
            "origin": labelled(w.Text(description="出发地"), "fk-log-origin", "240px"),
            "destination": labelled(w.Dropdown(options=_choice(villages), description="目的地(村)"),
                                    "fk-log-destination", "220px"),
            "temperature": labelled(w.Text(description="体温", placeholder="36.5"), "fk-log-temperature", "150px"),
            "health_code": labelled(w.Dropdown(options=_choice(HEALTH_CODES), description="健康码"),
                                    "fk-log-health-code", "170px"),
            "test48": labelled(w.Dropdown(options=_choice(("阴性", "无")), description="48小时核酸"),
                               "fk-log-test48", "190px"),
            "pre_registered": labelled(w.Dropdown(options=[("（未填）", ""), ("是", "是"), ("否", "否")],
                                                  description="是否已报备"), "fk-log-registered", "190px"),
            "sampled": labelled(w.Dropdown(options=[("（未填）", ""), ("是", "是"), ("否", "否")],
                                           description="现场采样"), "fk-log-sampled", "170px"),
            "outcome": labelled(w.Dropdown(options=_choice(OUTCOMES), description="处置结果"), "fk-log-outcome",
                                "200px"),
            "inspector": labelled(w.Text(description="检查人", placeholder="默认为操作人"), "fk-log-inspector",
                                  "200px"),
        }
        self._l_save = w.Button(description="保存查验记录", button_style="danger", icon="save").add_class(
            "fk-log-save")
        self._l_save.on_click(self._on_log)
        return form_box("卡点查验登记（未报备且进入本乡的人员将作为线索核查）", [
            row(f["time"], f["checkpoint"], f["name"], f["id_number"], f["phone"]),
            row(f["plate"], f["origin"], f["destination"], f["temperature"], f["health_code"]),
            row(f["test48"], f["pre_registered"], f["sampled"], f["outcome"], f["inspector"]),
            self._l_save,
        ], "fk-log-form")

    def _sync_people(self, _change=None):
        a = self._a
        names = self.model.people_on(a["day"].value, a["post"].value, a["shift"].value)
        if list(self._a_off.options) != names:
            self._a_off.options = names
            self._a_off.value = names[0] if names else None

    def _on_assign(self, _b=None):
        a = self._a
        if self.model.assign(day=a["day"].value, post=a["post"].value, shift=a["shift"].value,
                             name=a["name"].value.strip(), phone=a["phone"].value.strip(), role=a["role"].value,
                             note=a["note"].value.strip()):
            for key in ("name", "phone", "note"):
                a[key].value = ""
        self._sync_people()

    def _on_unassign(self, _b=None):
        a = self._a
        if not self._a_off.value:
            self.say("操作未完成：该班次没有可撤下的人员", True)
            return
        self.model.unassign(day=a["day"].value, post=a["post"].value, shift=a["shift"].value,
                            name=self._a_off.value)
        self._sync_people()

    def _on_log(self, _b=None):
        raw = {k: (v.value.strip() if isinstance(v.value, str) else v.value) for k, v in self._l.items()}
        raw = {k: v for k, v in raw.items() if v not in ("", None)}
        raw.setdefault("inspector", self.model.operator)
        if self.model.record_log(raw):
            for key in ("name", "id_number", "phone", "plate", "temperature"):
                self._l[key].value = ""
