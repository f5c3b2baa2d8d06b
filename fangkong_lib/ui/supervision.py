"""Supervision and rectification (督查整改): the view of :class:`SupervisionModel`.

Filters, KPI cards (each opens the problems or visits it counts), the
problem board, the overdue list, counts, workload, map and the forms of the
rectification loop. The model lives in :mod:`fangkong_lib.ui.models.supervision`.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from ..domain import problems as loop
from ..ledgers import PROBLEM_CATEGORIES, SUPERVISION_TEAMS
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.supervision import KPI_LABELS, SupervisionModel

__all__ = ["SupervisionModel", "SupervisionPage"]


class SupervisionPage(PageView):
    """The supervision dashboard: filters, KPIs, board, overdue list, counts,
    workload, map, forms of the loop, status line."""

    title = "督查整改"
    model_class = SupervisionModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人"

    def build(self) -> None:
        m = self.model
        self._team = self.bind(labelled(w.Dropdown(options=m.team_options, description="督查组"), "fk-filter-team",
                                        "220px"), "team")
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "190px"), "village")
        self._category = self.bind(labelled(w.Dropdown(options=m.category_options, description="类别"),
                                            "fk-filter-category", "200px"), "category")
        self._unit = self.bind(labelled(w.Dropdown(options=m.unit_options, description="责任单位"), "fk-filter-unit",
                                        "260px"), "unit")
        self._overdue = self.bind(labelled(w.Checkbox(description="只看逾期", indent=False), "fk-filter-overdue",
                                           "110px"), "overdue")
        self._day = self.bind(labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px"), "day")
        self._board = self.html_view("board_html", "fk-board-box")
        self._overdue_list = self.html_view("overdue_html", "fk-overdue-box")
        self._teams = self.html_view("teams_html", "fk-teams-box")
        self._workload = self.html_view("workload_html", "fk-workload-box")
        self._villages = self.html_view("villages_html", "fk-villages-box")
        self._map = self.map_frame()
        self._open_form = self._build_open_form()
        self._loop_form = self._build_loop_form()
        m.observe(self._render, names=["problem_options", "selected_html", "selected_steps"])
        m.observe(self._prefill, names=["selected"])
        self._render()
        self._prefill()

    def filter_bar(self):
        return [row(self._team, self._village, self._category, self._unit, self._overdue, self._day)]

    def export_bar(self):
        m = self.model

        def rows():
            problems = m.data.ledgers["problems"]
            return "problems", problems[problems["problem_no"].isin(m.rows["problem_no"] if len(m.rows) else [])]

        return [self.rows_export(rows, lambda: f"督查问题{'-' + m.village if m.village else ''}"),
                self.map_export(lambda: "督查问题分布图")]

    def body(self):
        return [
            section("问题看板（按整改阶段）"),
            self._board,
            section("逾期未销号问题"),
            self._overdue_list,
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="50%")),
                w.VBox([section("各督查组工作量"), self._workload, section("各督查组按周统计"), self._teams],
                       layout=w.Layout(width="50%", padding="0 0 0 12px")),
            ]),
            section("各村统计"),
            self._villages,
        ]

    def forms(self):
        return [section("督查与整改登记"), self._open_form, self._loop_form]

    def _build_open_form(self) -> w.VBox:
        """Open a problem / record a visit."""
        m = self.model
        self._o_date = labelled(w.DatePicker(description="督查日期", value=m.day), "fk-open-date", "230px")
        self._o_team = labelled(w.Dropdown(options=list(SUPERVISION_TEAMS), description="督查组"), "fk-open-team",
                                "200px")
        self._o_method = labelled(w.Dropdown(options=["明察", "暗访"], description="方式"), "fk-open-method", "150px")
        self._o_type = labelled(w.Dropdown(options=["村", "场所", "卡点"], description="单位类型"), "fk-open-type",
                                "170px")
        self._o_village = labelled(w.Dropdown(options=[("（无）", "")] + [(v, v) for v in m.data.village_names],
                                              description="村"), "fk-open-village", "190px")
        self._o_target = labelled(w.Text(description="被督查单位", placeholder="默认为所选的村"), "fk-open-target",
                                  "280px")
        self._o_category = labelled(w.Dropdown(options=list(PROBLEM_CATEGORIES), description="问题类别"),
                                    "fk-open-category", "220px")
        self._o_desc = labelled(w.Textarea(description="问题描述", rows=2), "fk-open-description", "600px")
        self._open = w.Button(description="新开问题", button_style="danger", icon="plus").add_class("fk-open-problem")
        self._visit = w.Button(description="仅登记督查（未发现问题）",
                               layout=w.Layout(width="220px")).add_class("fk-record-visit")
        self._open.on_click(self._on_open)
        self._visit.on_click(self._on_visit)
        return form_box("督查登记 / 新开问题", [
            row(self._o_date, self._o_team, self._o_method, self._o_type),
            row(self._o_village, self._o_target, self._o_category),
            self._o_desc, row(self._open, self._visit),
        ], "fk-open-form")

    def _build_loop_form(self) -> w.VBox:
        """The rectification loop: 交办 → 整改 → 复查 → 销号, and 问责."""
        m = self.model
        self._problem = labelled(w.Dropdown(description="问题"), "fk-problem-select", "460px")
        self._problem.observe(self._on_problem, names="value")
        self._info = self.html_view("selected_html", "fk-problem-info")
        self._who = labelled(w.Text(description="经办人", placeholder="默认为操作人"), "fk-step-who", "240px")
        self._s_unit = labelled(w.Text(description="责任单位"), "fk-step-unit", "260px")
        self._s_person = labelled(w.Text(description="责任人"), "fk-step-person", "200px")
        self._s_deadline = labelled(w.DatePicker(description="整改时限"), "fk-step-deadline", "230px")
        self._s_note = labelled(w.Text(description="情况说明"), "fk-step-note", "520px")
        self._s_evidence = labelled(w.Text(description="佐证材料", placeholder="照片、书面报告…"), "fk-step-evidence",
                                    "400px")
        self._s_done = labelled(w.Checkbox(description="整改已完成（报复查）", indent=False), "fk-step-done", "200px")
        self._buttons = {
            loop.ASSIGNED: w.Button(description="交办").add_class("fk-step-assign"),
            loop.FIXING: w.Button(description="报告整改进展").add_class("fk-step-progress"),
            loop.RECHECKED: w.Button(description="复查通过", button_style="success").add_class("fk-step-pass"),
            loop.FAILED: w.Button(description="复查未通过", button_style="warning").add_class("fk-step-fail"),
            loop.CLOSED: w.Button(description="销号", button_style="danger").add_class("fk-step-close"),
        }
        for step, button in self._buttons.items():
            button.on_click(lambda _b, s=step: self._on_step(s))
        self._acc = labelled(w.Dropdown(options=list(loop.ACCOUNTABILITY) + ["无"], description="问责"),
                             "fk-accountability-outcome", "180px")
        self._acc_save = w.Button(description="记录问责").add_class("fk-accountability")
        self._acc_save.on_click(lambda _b: m.set_accountability(m.selected, self._acc.value))
        return form_box("整改闭环：交办 → 整改 → 复查 → 销号", [
            self._problem, self._info,
            row(self._who, self._s_unit, self._s_person, self._s_deadline),
            row(self._s_note, self._s_done), self._s_evidence,
            row(*self._buttons.values()),
            row(self._acc, self._acc_save),
        ], "fk-loop-form")

    def _render(self, _change=None):
        m = self.model
        if list(self._problem.options) != m.problem_options:
            self._problem.options = m.problem_options
        codes = [c for _, c in m.problem_options]
        self._problem.value = m.selected if m.selected in codes else None
        allowed = set(m.selected_steps)
        for step, button in self._buttons.items():
            # A failed re-inspection can be recorded wherever a re-inspection can.
            button.disabled = step not in allowed and not (step == loop.FAILED and loop.RECHECKED in allowed)

    def _on_problem(self, change):
        if change["new"] and change["new"] != self.model.selected:
            self.model.selected = change["new"]

    def _prefill(self, _change=None):
        if not self.model.selected:
            return
        try:
            p = self.model.problem(self.model.selected)
        except ValueError:
            return
        self._s_unit.value = p["unit"] or ""
        self._s_person.value = p["person"] or ""
        self._s_deadline.value = pd.Timestamp(p["deadline"]).date() if pd.notna(p["deadline"]) else None
        self._render()

    def _open_fields(self) -> dict:
        return dict(date_=self._o_date.value, team=self._o_team.value, method=self._o_method.value,
                    target_type=self._o_type.value, village=self._o_village.value, target=self._o_target.value.strip())

    def _on_open(self, _b=None):
        if self.model.open_problem(**self._open_fields(), category=self._o_category.value,
                                   description=self._o_desc.value.strip()):
            self._o_desc.value = ""

    def _on_visit(self, _b=None):
        self.model.record_visit(**self._open_fields())

    def _on_step(self, step: str):
        m, no = self.model, self.model.selected
        who, note, evidence = self._who.value.strip(), self._s_note.value.strip(), self._s_evidence.value.strip()
        if step == loop.ASSIGNED:
            ok = m.assign(no, unit=self._s_unit.value, person=self._s_person.value, deadline=self._s_deadline.value,
                          note=note, who=who)
        elif step == loop.FIXING:
            ok = m.progress(no, note=note, evidence=evidence, done=self._s_done.value, who=who)
        elif step in (loop.RECHECKED, loop.FAILED):
            ok = m.recheck(no, passed=step == loop.RECHECKED, note=note, evidence=evidence, who=who)
        else:
            ok = m.close(no, note=note, evidence=evidence, who=who)
        if ok:
            self._s_note.value = ""
            self._s_evidence.value = ""
            self._s_done.value = False
