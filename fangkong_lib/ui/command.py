"""The command page (指挥调度, 1+17+N): the view of :class:`CommandModel`.

Filters (village, unit, task status, date and hour), KPI cards (each opens
what it counts), the map of the villages' reports and open tasks with the HQ
marked, the structure, the duty roster, the day's meetings, the task board,
the villages' reports, and the forms: a meeting with its decisions, the
task loop, a village's report, a duty assignment. The model lives in
:mod:`fangkong_lib.ui.models.command`.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from ..domain import problems as loop
from ..ledgers import get_ledger
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.command import DECISION_ROWS, KPI_LABELS, TASKS, CommandModel

__all__ = ["CommandModel", "CommandPage"]

EXTRA_CSS = """
<style>
.fk-duty b{display:block;margin:8px 0 2px 0;font-size:13px;color:#243b53}
.fk-roster td,.fk-meetings td,.fk-reports td,.fk-units td,.fk-tasks td,.fk-duty-week td{text-align:left}
.fk-roster td,.fk-units td,.fk-tasks td{white-space:normal}
.fk-report-calendar td.fk-flag,.fk-reports td.fk-flag,.fk-meetings td.fk-flag,.fk-duty-week td.fk-flag{background:#fff1f0}
.fk-structure-label{font-size:14px;color:#8c1d18;font-weight:bold}
</style>
"""


class CommandPage(PageView):
    """The command dashboard."""

    title = "指挥调度"
    model_class = CommandModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人"
    extra_css = EXTRA_CSS

    def build(self) -> None:
        m = self.model
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "190px"), "village")
        self._unit = self.bind(labelled(w.Dropdown(options=m.unit_options, description="单位"), "fk-filter-unit",
                                        "260px"), "unit")
        self._task_status = self.bind(labelled(w.Dropdown(options=m.status_options, description="办理状态"),
                                          "fk-filter-task-status", "220px"), "task_status")
        self._day = self.bind(labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px"), "day")
        self._hour = self.bind(labelled(w.Dropdown(options=m.hour_options, description="时刻"), "fk-filter-hour",
                                        "150px"), "hour")
        self._map = self.map_frame()
        self._structure = self.html_view("structure_html", "fk-structure-box")
        self._label = w.HTML().add_class("fk-structure-label")
        m.observe(lambda _c: self._show_label(), names="structure_label")
        self._show_label()
        self._duty = self.html_view("duty_html", "fk-duty-box")
        self._meetings = self.html_view("meetings_html", "fk-meetings-box")
        self._board = self.html_view("board_html", "fk-board-box")
        self._overdue = self.html_view("overdue_html", "fk-task-overdue-box")
        self._reports = self.html_view("reports_html", "fk-reports-box")
        self._calendar = self.html_view("calendar_html", "fk-calendar-box")
        self._meeting_form = self._build_meeting_form()
        self._loop_form = self._build_loop_form()
        self._report_form = self._build_report_form()
        self._duty_form = self._build_duty_form()
        m.observe(self._render, names=["task_options", "selected_html", "selected_steps"])
        m.observe(self._prefill, names=["selected"])
        self._render()
        self._prefill()

    def _show_label(self):
        self._label.value = f"总航线 {self.model.structure_label}（乡指挥部 + 村党支部 + 部门和工作专班）"

    def filter_bar(self):
        return [row(self._village, self._unit, self._task_status, self._day, self._hour)]

    def export_bar(self):
        m = self.model

        def tasks():
            rows = m.data.ledgers["tasks"]
            return "tasks", rows[rows["task_no"].isin(m.tasks["task_no"] if len(m.tasks) else [])]

        def meetings():
            rows = m.data.ledgers["meetings"]
            return "meetings", rows[pd.to_datetime(rows["date"]) == pd.Timestamp(m.day)]

        suffix = lambda: f"{'-' + m.village if m.village else ''}-{m.day.isoformat()}"  # noqa: E731
        return [self.rows_export(tasks, lambda: f"交办事项{suffix()}"),
                self.rows_export(meetings, lambda: f"会议记录{suffix()}"),
                self.map_export(lambda: f"指挥调度图_{m.day.isoformat()}")]

    def body(self):
        return [
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="55%")),
                w.VBox([section("值班值守"), self._duty], layout=w.Layout(width="45%", padding="0 0 0 12px")),
            ]),
            section("今日会议（早会商 · 支部会商 · 晚汇报）"),
            self._meetings,
            section("交办事项（按办理状态）"),
            self._board,
            section("逾期未办结的交办事项"),
            self._overdue,
            w.HBox([
                w.VBox([section("各村17:00日报告（当日）"), self._reports], layout=w.Layout(width="40%")),
                w.VBox([section("近7日报告情况（迟报、未报标红）"), self._calendar],
                       layout=w.Layout(width="60%", padding="0 0 0 12px")),
            ]),
            section("指挥体系（1+17+N）"),
            self._label,
            self._structure,
        ]

    def forms(self):
        return [section("会议、交办、日报告与排班登记"), self._meeting_form, self._loop_form,
                w.HBox([self._report_form, self._duty_form], layout=w.Layout(align_items="flex-start")).add_class(
                    "fk-gap")]

    # -- Meeting with its decisions ------------------------------------------------------

    def _build_meeting_form(self) -> w.VBox:
        m = self.model
        kinds = list(get_ledger("meetings")["kind"].choices)
        self._m_date = labelled(w.DatePicker(description="日期", value=m.day), "fk-meeting-date", "220px")
        self._m_kind = labelled(w.Dropdown(options=kinds, description="会议"), "fk-meeting-kind", "170px")
        self._m_unit = labelled(w.Dropdown(options=m.unit_names, description="召开单位"), "fk-meeting-unit", "280px")
        self._m_time = labelled(w.Text(description="召开时间", placeholder="07:30"), "fk-meeting-time", "170px")
        self._m_host = labelled(w.Text(description="主持人"), "fk-meeting-host", "200px")
        self._m_expected = labelled(w.BoundedIntText(description="应到", min=0, max=999, value=0),
                                    "fk-meeting-expected", "130px")
        self._m_present = labelled(w.BoundedIntText(description="实到", min=0, max=999, value=0),
                                   "fk-meeting-present", "130px")
        self._m_absent = labelled(w.Text(description="缺席人员", placeholder="姓名及原因"), "fk-meeting-absent", "320px")
        self._m_topics = labelled(w.Text(description="会商议题"), "fk-meeting-topics", "560px")
        units = [("（选择责任单位）", "")] + [(u, u) for u in m.unit_names]
        villages = [("（无）", "")] + [(v, v) for v in m.data.village_names]
        self._decisions = []
        rows = []
        for n in range(1, DECISION_ROWS + 1):
            fields = dict(
                description=labelled(w.Text(description=f"议定事项{n}"), f"fk-decision-text-{n}", "420px"),
                unit=labelled(w.Dropdown(options=units, description="责任单位"), f"fk-decision-unit-{n}", "270px"),
                person=labelled(w.Text(description="责任人", placeholder="默认为单位负责人"),
                                f"fk-decision-person-{n}", "220px"),
                deadline=labelled(w.DatePicker(description="完成时限"), f"fk-decision-deadline-{n}", "220px"),
                village=labelled(w.Dropdown(options=villages, description="村"), f"fk-decision-village-{n}", "170px"),
            )
            self._decisions.append(fields)
            rows.append(row(*fields.values()))
        self._m_save = w.Button(description="保存会议并交办", button_style="danger", icon="save",
                                layout=w.Layout(width="180px")).add_class("fk-meeting-save")
        self._m_save.on_click(self._on_meeting)
        return form_box("会议记录（每个议定事项即交办一件：责任单位、责任人、完成时限）", [
            row(self._m_date, self._m_kind, self._m_unit, self._m_time, self._m_host),
            row(self._m_expected, self._m_present, self._m_absent), self._m_topics, *rows, self._m_save,
        ], "fk-meeting-form")

    def _on_meeting(self, _b=None):
        decisions = [{k: (f.value.strip() if isinstance(f.value, str) else f.value) for k, f in d.items()}
                     for d in self._decisions]
        ok = self.model.record_meeting(
            date_=self._m_date.value, kind=self._m_kind.value, unit=self._m_unit.value or "",
            held_at=self._m_time.value, host=self._m_host.value, expected=self._m_expected.value,
            present=self._m_present.value, absent=self._m_absent.value, topics=self._m_topics.value,
            decisions=decisions)
        if ok:
            for d in self._decisions:
                d["description"].value = d["person"].value = ""
                d["unit"].value = d["village"].value = ""
                d["deadline"].value = None

    # -- The task loop ----------------------------------------------------------------------

    def _build_loop_form(self) -> w.VBox:
        self._task = labelled(w.Dropdown(description="交办事项"), "fk-task-select", "560px")
        self._task.observe(self._on_task, names="value")
        self._info = self.html_view("selected_html", "fk-task-info")
        self._who = labelled(w.Text(description="经办人", placeholder="默认为操作人"), "fk-task-who", "220px")
        self._t_unit = labelled(w.Dropdown(options=[("", "")] + [(u, u) for u in self.model.unit_names],
                                           description="责任单位"), "fk-task-unit", "280px")
        self._t_person = labelled(w.Text(description="责任人"), "fk-task-person", "200px")
        self._t_deadline = labelled(w.DatePicker(description="完成时限"), "fk-task-deadline", "220px")
        self._t_note = labelled(w.Text(description="情况说明"), "fk-task-note", "520px")
        self._t_evidence = labelled(w.Text(description="佐证材料"), "fk-task-evidence", "360px")
        self._t_done = labelled(w.Checkbox(description="已办完（报核验）", indent=False), "fk-task-done", "170px")
        words = TASKS.step_actions
        self._buttons = {
            loop.ASSIGNED: w.Button(description="交办").add_class("fk-task-assign"),
            loop.FIXING: w.Button(description=words[loop.FIXING]).add_class("fk-task-progress"),
            loop.RECHECKED: w.Button(description=words[loop.RECHECKED], button_style="success").add_class(
                "fk-task-pass"),
            loop.FAILED: w.Button(description=words[loop.FAILED], button_style="warning").add_class("fk-task-fail"),
            loop.CLOSED: w.Button(description=words[loop.CLOSED], button_style="danger").add_class("fk-task-close"),
        }
        for step, button in self._buttons.items():
            button.on_click(lambda _b, s=step: self._on_step(s))
        return form_box("交办事项办理：交办 → 办理 → 核验 → 办结", [
            self._task, self._info, row(self._who, self._t_unit, self._t_person, self._t_deadline),
            row(self._t_note, self._t_done), self._t_evidence, row(*self._buttons.values()),
        ], "fk-task-form")

    def _render(self, _change=None):
        m = self.model
        if list(self._task.options) != m.task_options:
            self._task.options = m.task_options
        codes = [c for _, c in m.task_options]
        self._task.value = m.selected if m.selected in codes else None
        allowed = set(m.selected_steps)
        for step, button in self._buttons.items():
            button.disabled = step not in allowed and not (step == loop.FAILED and loop.RECHECKED in allowed)

    def _on_task(self, change):
        if change["new"] and change["new"] != self.model.selected:
            self.model.selected = change["new"]

    def _prefill(self, _change=None):
        if not self.model.selected:
            return
        try:
            task = self.model.task(self.model.selected)
        except ValueError:
            return
        unit = task["unit"] if isinstance(task["unit"], str) else ""
        self._t_unit.value = unit if unit in self.model.unit_names else ""
        self._t_person.value = task["person"] if isinstance(task["person"], str) else ""
        self._t_deadline.value = pd.Timestamp(task["deadline"]).date() if pd.notna(task["deadline"]) else None
        self._render()

    def _on_step(self, step: str):
        m, no = self.model, self.model.selected
        who, note, evidence = self._who.value.strip(), self._t_note.value.strip(), self._t_evidence.value.strip()
        if step == loop.ASSIGNED:
            ok = m.assign(no, unit=self._t_unit.value or "", person=self._t_person.value,
                          deadline=self._t_deadline.value, note=note, who=who)
        elif step == loop.FIXING:
            ok = m.progress(no, note=note, evidence=evidence, done=self._t_done.value, who=who)
        elif step in (loop.RECHECKED, loop.FAILED):
            ok = m.recheck(no, passed=step == loop.RECHECKED, note=note, evidence=evidence, who=who)
        else:
            ok = m.close(no, note=note, evidence=evidence, who=who)
        if ok:
            self._t_note.value = self._t_evidence.value = ""
            self._t_done.value = False

    # -- A village's report, a duty assignment -----------------------------------------------

    def _build_report_form(self) -> w.VBox:
        m = self.model
        self._r_village = labelled(w.Dropdown(options=m.data.village_names, description="村"), "fk-report-village",
                                   "190px")
        self._r_date = labelled(w.DatePicker(description="日期", value=m.day), "fk-report-date", "220px")
        self._r_time = labelled(w.Text(description="上报时间", placeholder="16:30"), "fk-report-time", "170px")
        self._r_zero = labelled(w.Checkbox(description="零报告（当日无新增）", indent=False), "fk-report-zero", "190px")
        self._r_numbers = {
            key: labelled(w.BoundedIntText(description=label, min=0, max=99999, value=0), f"fk-report-{key}", "160px")
            for key, label in (("new_away", "新增在外"), ("arrivals", "当日返乡"), ("under_control", "在管人数"),
                               ("fevers", "发热人数"))}
        self._r_reporter = labelled(w.Text(description="报告人"), "fk-report-reporter", "200px")
        self._r_note = labelled(w.Text(description="备注"), "fk-report-note", "340px")
        self._r_save = w.Button(description="保存日报告", icon="save").add_class("fk-report-save")
        self._r_save.on_click(self._on_report)
        return form_box("村日报告（17:00 前，含零报告）", [
            row(self._r_village, self._r_date, self._r_time), self._r_zero,
            row(*self._r_numbers.values()), row(self._r_reporter, self._r_note), self._r_save,
        ], "fk-report-form")

    def _on_report(self, _b=None):
        self.model.record_report(village=self._r_village.value, date_=self._r_date.value, at=self._r_time.value,
                                 zero=self._r_zero.value, reporter=self._r_reporter.value, note=self._r_note.value,
                                 **{k: f.value for k, f in self._r_numbers.items()})

    def _build_duty_form(self) -> w.VBox:
        m = self.model
        roles = list(get_ledger("duty_shifts")["role"].choices)
        self._d_post = labelled(w.Dropdown(options=m.post_options, description="点位"), "fk-duty-post", "300px")
        self._d_shift = labelled(w.Dropdown(description="班次"), "fk-duty-shift", "150px")
        self._d_post.observe(self._on_post, names="value")
        self._on_post()
        self._d_date = labelled(w.DatePicker(description="日期", value=m.day), "fk-duty-date", "220px")
        self._d_name = labelled(w.Text(description="姓名"), "fk-duty-name", "180px")
        self._d_phone = labelled(w.Text(description="电话"), "fk-duty-phone", "200px")
        self._d_role = labelled(w.Dropdown(options=roles, description="身份"), "fk-duty-role", "160px")
        self._d_save = w.Button(description="排班", icon="user-plus").add_class("fk-duty-save")
        self._d_save.on_click(self._on_duty)
        return form_box("指挥部 / 村指挥部排班", [
            row(self._d_post, self._d_shift), row(self._d_date, self._d_role), row(self._d_name, self._d_phone),
            self._d_save,
        ], "fk-duty-form")

    def _on_post(self, _change=None):
        shifts = self.model.shift_options(self._d_post.value) if self._d_post.value else []
        self._d_shift.options = shifts
        self._d_shift.value = shifts[0] if shifts else None

    def _on_duty(self, _b=None):
        if self.model.assign_duty(post=self._d_post.value or "", shift=self._d_shift.value or "",
                                  name=self._d_name.value, phone=self._d_phone.value, role=self._d_role.value,
                                  date_=self._d_date.value):
            self._d_name.value = self._d_phone.value = ""
