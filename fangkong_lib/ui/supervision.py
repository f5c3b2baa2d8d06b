"""Supervision and the rectification loop (督查整改): a traitlets model and
its widget view.

The model (:class:`SupervisionModel`) never imports ipywidgets: set the
filter traits (``team``, ``village``, ``category``, ``unit``, ``overdue``,
``day``) and read ``kpis``, ``board_html``, ``map_html``, the tables and
``status``; call its form methods (:meth:`~SupervisionModel.open_problem`,
:meth:`~SupervisionModel.assign`, :meth:`~SupervisionModel.progress`,
:meth:`~SupervisionModel.recheck`, :meth:`~SupervisionModel.close`,
:meth:`~SupervisionModel.set_accountability`) to move a problem through the
loop. The view (:class:`SupervisionPage`) is a VBox linked to it.
"""

from __future__ import annotations

from datetime import date

import ipywidgets as w
import pandas as pd
import traitlets as t

from ..actions import records
from ..dataset import Dataset
from ..domain import problems as loop
from ..ledgers import PROBLEM_CATEGORIES, SUPERVISION_TEAMS
from ..views.boards import problem_board_html
from ..views.maps import (
    add_legend, add_notes, add_title, add_village_labels, add_village_values_layer, escape_text, make_base_map,
    map_iframe, render_map, value_legend_entries,
)
from ..views.tables import frame_html, kpi_cards_html
from .exportbar import ExportBar, MapExportBar
from .common import page_header, status_html, village_choices
from .forms import EXTRA_CSS, form_box, labelled, operator_field, row, section
from .state import LRUCache, PageState

ALL = ""
TEAM_CHOICES = SUPERVISION_TEAMS + ("场所检查",)
MAP_BINS, MAP_COLOURS = (0, 1, 2, 3, 5), ("#f7f7f2", "#fde0c5", "#f59e72", "#e4643c", "#b8322a")

KPI_LABELS = {
    "visits": "督查次数",
    "found": "发现问题",
    "open": "未销号",
    "problems_overdue": "逾期未销号",
    "fixing": "整改中",
    "to_close": "待销号",
    "closed": "已销号",
    "accountability": "问责",
}
COUNT_LABELS = {"visits": "督查次数", "inspections": "场所检查", "found": "发现问题", "closed": "已销号",
                "open": "未销号", "overdue": "逾期"}
WORKLOAD_LABELS = {"open": "跟踪中", "fixing": "待复查（整改中）", "reported_done": "其中已报整改完成",
                   "to_close": "待销号", "overdue": "逾期", "visits_7d": "近7日督查", "visits": "累计督查"}
EVENT_LABELS = {"step": "环节", "time": "时间", "who": "经办人", "unit": "责任单位", "person": "责任人",
                "deadline": "整改时限", "note": "情况说明", "evidence": "佐证材料"}


class SupervisionModel(PageState):
    """State of the supervision page: filters in, board and figures out."""

    team = t.Unicode(ALL)
    village = t.Unicode(ALL)
    category = t.Unicode(ALL)
    unit = t.Unicode(ALL)
    overdue = t.Bool(False)
    day = t.Instance(date)

    kpis = t.Dict()
    count = t.Int(0)
    board_html = t.Unicode("")
    overdue_html = t.Unicode("")
    teams_html = t.Unicode("")
    workload_html = t.Unicode("")
    villages_html = t.Unicode("")
    map_html = t.Unicode("")
    problem_options = t.List()
    selected = t.Unicode("")
    selected_html = t.Unicode("")
    selected_steps = t.List()  # steps the selected problem may take next

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        self._map_cache = LRUCache(16)
        self.rows = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        super().__init__(**kwargs)
        self.refresh()

    # -- Options -------------------------------------------------------------

    @property
    def team_options(self):
        return [("全部督查组", ALL)] + [(x, x) for x in TEAM_CHOICES]

    @property
    def village_options(self):
        return village_choices(self.data)

    @property
    def category_options(self):
        return [("全部类别", ALL)] + [(c, c) for c in PROBLEM_CATEGORIES]

    @property
    def unit_options(self):
        units = sorted(u for u in self.data.ledgers["problems"]["unit"].dropna().unique() if u)
        return [("全部责任单位", ALL)] + [(u, u) for u in units]

    @t.validate("team")
    def _check_team(self, proposal):
        if proposal["value"] and proposal["value"] not in TEAM_CHOICES:
            raise t.TraitError(f"未知的督查组：{proposal['value']}")
        return proposal["value"]

    @t.validate("village")
    def _check_village(self, proposal):
        if proposal["value"] and proposal["value"] not in self.data.village_names:
            raise t.TraitError(f"未知的村：{proposal['value']}")
        return proposal["value"]

    @t.observe("team", "village", "category", "unit", "overdue", "day")
    def _on_filter(self, _change):
        self.refresh()

    @t.observe("selected")
    def _on_selected(self, _change):
        self._describe_selected()

    # -- Figures -----------------------------------------------------------------

    def _visits(self) -> pd.DataFrame:
        visits = self.data.ledgers["supervisions"]
        visits = visits[pd.to_datetime(visits["date"]) <= pd.Timestamp(self.day)]
        if self.team:
            visits = visits[visits["team"] == self.team]
        if self.village:
            visits = visits[visits["village"] == self.village]
        return visits

    def refresh(self) -> None:
        """Recompute board, KPIs, tables and map; errors go to ``status``."""
        try:
            if self.day is None:
                raise ValueError("请选择日期")
            ledgers = self.data.ledgers
            problems, events = ledgers["problems"], ledgers["problem_events"]
            rows = loop.filter_problems(problems, self.day, team=self.team, village=self.village,
                                        category=self.category, unit=self.unit, overdue=self.overdue)
            self.rows = rows
            self.count = len(rows)
            visits = self._visits()
            stage = rows["stage"].value_counts()
            self.kpis = {
                "visits": len(visits),
                "found": len(rows),
                "open": int((rows["stage"] != loop.CLOSED).sum()),
                "problems_overdue": int(rows["overdue"].sum()),
                "fixing": int(stage.get(loop.FIXING, 0)),
                "to_close": int(stage.get(loop.RECHECKED, 0)),
                "closed": int(stage.get(loop.CLOSED, 0)),
                "accountability": int(rows["accountability"].isin(loop.ACCOUNTABILITY).sum()),
            }
            self.board_html = problem_board_html(loop.board(rows))
            late = loop.overdue_problems(rows, self.day).rename(columns=loop.OVERDUE_COLUMNS)
            self.overdue_html = frame_html(late, css_class="fk-table fk-overdue-list", empty="没有逾期未销号的问题")
            self.teams_html = self._teams_html(rows, events, visits)
            self.workload_html = self._workload_html(rows, visits)
            self.villages_html = self._villages_html(rows, events, visits)
            self.map_html = self._map_for(rows)
            self.problem_options = [
                (f"{r.problem_no} · {r.target or r.village or ''} · {r.stage}{' · 逾期' if r.overdue else ''}", r.problem_no)
                for r in rows.sort_values("problem_no", ascending=False).itertuples()
            ]
            codes = [c for _, c in self.problem_options]
            if self.selected not in codes:
                self.selected = codes[0] if codes else ""
            self._describe_selected()
            scope = " · ".join(x for x in (self.team, self.village or "全乡", self.category, self.unit,
                                           "只看逾期" if self.overdue else "") if x)
            self.status = f"已更新：{scope} · {len(rows)} 个问题 · {self.day.isoformat()}"
            self.error = False
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.status, self.error = f"出错：{exc}", True

    def _teams_html(self, rows, events, visits) -> str:
        keys = [self.team] if self.team else list(SUPERVISION_TEAMS)
        weekly = loop.counts_over_time(rows, events, visits, self.day, by="team", keys=keys)
        if weekly.empty:
            return frame_html(weekly, empty="无")
        weekly = weekly.assign(week=weekly["week"].dt.strftime("%m-%d 起"))
        table = weekly.rename(columns={"key": "督查组", "week": "周", **COUNT_LABELS})
        return frame_html(table, css_class="fk-table fk-team-weekly")

    def _workload_html(self, rows, visits) -> str:
        teams = [self.team] if self.team in SUPERVISION_TEAMS else list(SUPERVISION_TEAMS)
        table = loop.team_workload(rows, visits, self.day, teams=teams).rename(columns=WORKLOAD_LABELS)
        table.index.name = "督查组"
        return frame_html(table, index=True, css_class="fk-table fk-workload")

    def _villages_html(self, rows, events, visits) -> str:
        keys = [self.village] if self.village else self.data.village_names
        table = loop.summarize_by(rows, visits, self.day, by="village", keys=keys)
        insp = self.data.ledgers["inspections"]
        insp = insp[pd.to_datetime(insp["date"]) <= pd.Timestamp(self.day)]
        table.insert(1, "inspections", insp.groupby("village").size().reindex(keys, fill_value=0).astype(int))
        weekly = loop.counts_over_time(rows, events, visits, self.day, by="village", keys=keys)
        if len(weekly):
            found = weekly.pivot(index="key", columns="week", values="found")
            for week in found.columns:
                table[f"发现·{week:%m-%d}周"] = found[week].reindex(keys).fillna(0).astype(int)
        table = table.rename(columns=COUNT_LABELS)
        table.index.name = "村"
        total = table.sum().to_frame("合计").T
        total.index.name = "村"
        return frame_html(pd.concat([table, total]), index=True, css_class="fk-table fk-village-counts")

    def _map_for(self, rows: pd.DataFrame) -> str:
        open_rows = rows[rows["stage"] != loop.CLOSED]
        counts = open_rows.groupby("village").size()
        key = (tuple(sorted(counts.items())), self.village)
        cached = self._map_cache.get(key)
        if cached is not None:
            return cached
        villages = self.data.villages
        focus = villages[villages["name"] == self.village] if self.village else villages
        m = make_base_map(focus.total_bounds)
        add_village_values_layer(m, villages, counts, bins=MAP_BINS, colours=MAP_COLOURS, unit=" 个未销号问题",
                                 name="未销号问题", highlight_village=self.village or None)
        add_village_labels(m, villages)
        title = f"{self.data.township}督查问题分布"
        add_title(m, title, f"未销号 {len(open_rows)} 个 · {self.day.isoformat()}")
        add_legend(m, "未销号问题（按村）", value_legend_entries(MAP_BINS, MAP_COLOURS, " 个"))
        add_notes(m, self.data.source_note)
        doc = map_iframe(render_map(m), height=480, title=title)
        return self._map_cache.put(key, doc)

    def problem(self, problem_no: str) -> dict:
        problems = self.data.ledgers["problems"]
        match = problems[problems["problem_no"] == problem_no]
        if match.empty:
            raise ValueError(f"没有编号为 {problem_no} 的问题")
        return match.iloc[0].to_dict()

    def _describe_selected(self) -> None:
        if not self.selected:
            self.selected_html, self.selected_steps = "", []
            return
        try:
            p = self.problem(self.selected)
        except ValueError as exc:
            self.selected_html, self.selected_steps = f"<span class='fk-flag'>{escape_text(exc)}</span>", []
            return
        steps = list(loop.allowed_steps(p["stage"]))
        history = loop.problem_history(self.data.ledgers["problem_events"], self.selected)
        late = bool(loop.is_overdue(pd.DataFrame([p]), self.day).iloc[0])
        nexts = "、".join(loop.STEP_ACTIONS[s] for s in steps) or "无（已销号）"
        deadline = pd.Timestamp(p["deadline"]).strftime("%Y-%m-%d") if pd.notna(p["deadline"]) else "未定"
        info = (
            f"<div class='fk-stage-info'><b>{escape_text(p['problem_no'])}</b> 当前阶段："
            f"<b data-stage='{escape_text(p['stage'])}' class='fk-current-stage'>{escape_text(p['stage'])}</b>"
            f"{'<span class=fk-flag>（逾期）</span>' if late else ''} · 下一步：{escape_text(nexts)}<br>"
            f"{escape_text(p['description'] or '')} · 责任单位：{escape_text(p['unit'] or '未交办')} · "
            f"责任人：{escape_text(p['person'] or '')} · 整改时限：{escape_text(deadline)} · "
            f"问责：{escape_text(p['accountability'] or '无')}</div>"
        )
        shown = history[list(EVENT_LABELS)].rename(columns=EVENT_LABELS)
        self.selected_html = info + frame_html(shown, css_class="fk-table fk-history", empty="无整改过程记录")
        self.selected_steps = steps

    # -- Forms ----------------------------------------------------------------------

    _RELOAD = ("problems", "problem_events", "supervisions")

    def open_problem(self, *, date_: date | None = None, team: str, target: str, village: str = "",
                     target_type: str = "村", method: str = "明察", category: str, description: str) -> bool:
        """Open a problem (发现) found by ``team`` at ``target``; selects it."""
        number = []

        def act():
            raw = dict(date=date_ or self.day, team=team, method=method, target=target or village,
                       target_type=target_type, village=village or None, category=category, description=description)
            number.append(records.open_problem(self.data.engine, raw, user=self.operator,
                                               villages=self.data.village_names, today=self.data.today))
            return f"已新开问题 {number[0]}（{target or village} · {category}），下一步：交办"
        ok = self._act(act, reload=self._RELOAD)
        if ok:
            self.selected = number[0]
            self._describe_selected()
        return ok

    def record_visit(self, *, date_: date | None = None, team: str, target: str, village: str = "",
                     target_type: str = "村", method: str = "明察") -> bool:
        """Record a supervision visit that found nothing."""
        def act():
            raw = dict(date=date_ or self.day, team=team, method=method, target=target or village,
                       target_type=target_type, village=village or None)
            records.record_supervision(self.data.engine, raw, [], user=self.operator,
                                       villages=self.data.village_names, today=self.data.today)
            return f"已登记 {team} 对 {target or village} 的督查（未发现问题）"
        return self._act(act, reload=self._RELOAD)

    def _step(self, problem_no: str, steps, message: str) -> bool:
        def act():
            if not problem_no:
                raise ValueError("请先选择问题")
            stage = records.apply_steps(self.data.engine, problem_no, steps, user=self.operator, day=self.day)
            return f"{problem_no}：{message}，当前阶段：{stage}"
        ok = self._act(act, reload=self._RELOAD)
        self._describe_selected()
        return ok

    def assign(self, problem_no: str, *, unit: str, person: str, deadline: date | None, note: str = "",
               who: str = "") -> bool:
        """交办: the responsible unit, person and deadline (发现 → 反馈)."""
        step = records.Step(loop.ASSIGNED, who=who, unit=unit.strip(), person=person.strip(), deadline=deadline,
                            note=note.strip() or "当日反馈，限期整改")
        return self._step(problem_no, [step], f"已交办 {unit}（{person}），整改时限 {deadline}")

    def progress(self, problem_no: str, *, note: str, evidence: str = "", done: bool = False, who: str = "") -> bool:
        """报告整改进展 (反馈 → 整改中, or a further report while 整改中)."""
        step = records.Step(loop.FIXING, who=who, note=note.strip(), evidence=evidence.strip(), done=done)
        return self._step(problem_no, [step], "已记录整改进展" + ("（整改完成，待复查）" if done else ""))

    def recheck(self, problem_no: str, *, passed: bool, note: str = "", evidence: str = "", who: str = "") -> bool:
        """复查: passed (整改中 → 复查) or failed (→ 复查未通过 → 整改中)."""
        def act():
            if not problem_no:
                raise ValueError("请先选择问题")
            stage = records.recheck(self.data.engine, problem_no, passed, user=self.operator, day=self.day,
                                    who=who, note=note, evidence=evidence)
            return f"{problem_no}：复查{'通过' if passed else '未通过'}，当前阶段：{stage}"
        ok = self._act(act, reload=self._RELOAD)
        self._describe_selected()
        return ok

    def close(self, problem_no: str, *, note: str = "", evidence: str = "", who: str = "") -> bool:
        """销号 (复查 → 销号): only after a passed re-inspection."""
        step = records.Step(loop.CLOSED, who=who, note=note.strip() or "整改到位，予以销号", evidence=evidence.strip())
        return self._step(problem_no, [step], "已销号")

    def set_accountability(self, problem_no: str, outcome: str) -> bool:
        """问责情况 (约谈/通报/诫勉) recorded on the problem."""
        def act():
            if not problem_no:
                raise ValueError("请先选择问题")
            records.set_accountability(self.data.engine, problem_no, outcome, user=self.operator)
            return f"{problem_no}：已记录问责情况「{outcome}」"
        ok = self._act(act, reload=("problems",))
        self._describe_selected()
        return ok


# -- The view -------------------------------------------------------------------------------


class SupervisionPage(w.VBox):
    """The supervision dashboard: filters, KPIs, board, overdue list, counts,
    workload, map, forms of the loop, status line."""

    def __init__(self, model: SupervisionModel | None = None, *, db=None, **kwargs):
        self.model = model or SupervisionModel(Dataset.load(db))
        m = self.model
        self._team = labelled(w.Dropdown(options=m.team_options, description="督查组"), "fk-filter-team", "220px")
        self._village = labelled(w.Dropdown(options=m.village_options, description="村"), "fk-filter-village", "190px")
        self._category = labelled(w.Dropdown(options=m.category_options, description="类别"), "fk-filter-category", "200px")
        self._unit = labelled(w.Dropdown(options=m.unit_options, description="责任单位"), "fk-filter-unit", "260px")
        self._overdue = labelled(w.Checkbox(description="只看逾期", indent=False), "fk-filter-overdue", "110px")
        self._day = labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px")
        self._operator = operator_field()
        for widget, trait in ((self._team, "team"), (self._village, "village"), (self._category, "category"),
                              (self._unit, "unit"), (self._overdue, "overdue"), (self._day, "day"),
                              (self._operator, "operator")):
            w.link((m, trait), (widget, "value"))

        self._status = w.HTML().add_class("fk-status")
        self._kpis = w.HTML().add_class("fk-kpis")
        self._board = w.HTML().add_class("fk-board-box")
        self._overdue_list = w.HTML().add_class("fk-overdue-box")
        self._teams = w.HTML().add_class("fk-teams-box")
        self._workload = w.HTML().add_class("fk-workload-box")
        self._villages = w.HTML().add_class("fk-villages-box")
        self._map = w.HTML(layout=w.Layout(width="100%")).add_class("fk-map-box")

        # Open a problem / record a visit.
        self._o_date = labelled(w.DatePicker(description="督查日期", value=m.day), "fk-open-date", "230px")
        self._o_team = labelled(w.Dropdown(options=list(SUPERVISION_TEAMS), description="督查组"), "fk-open-team", "200px")
        self._o_method = labelled(w.Dropdown(options=["明察", "暗访"], description="方式"), "fk-open-method", "150px")
        self._o_type = labelled(w.Dropdown(options=["村", "场所", "卡点"], description="单位类型"), "fk-open-type", "170px")
        self._o_village = labelled(w.Dropdown(options=[("（无）", "")] + [(v, v) for v in m.data.village_names],
                                              description="村"), "fk-open-village", "190px")
        self._o_target = labelled(w.Text(description="被督查单位", placeholder="默认为所选的村"), "fk-open-target", "280px")
        self._o_category = labelled(w.Dropdown(options=list(PROBLEM_CATEGORIES), description="问题类别"),
                                    "fk-open-category", "220px")
        self._o_desc = labelled(w.Textarea(description="问题描述", rows=2), "fk-open-description", "600px")
        self._open = w.Button(description="新开问题", button_style="danger", icon="plus").add_class("fk-open-problem")
        self._visit = w.Button(description="仅登记督查（未发现问题）",
                               layout=w.Layout(width="220px")).add_class("fk-record-visit")
        self._open.on_click(self._on_open)
        self._visit.on_click(self._on_visit)

        # The loop.
        self._problem = labelled(w.Dropdown(description="问题"), "fk-problem-select", "460px")
        self._problem.observe(self._on_problem, names="value")
        self._info = w.HTML().add_class("fk-problem-info")
        self._who = labelled(w.Text(description="经办人", placeholder="默认为操作人"), "fk-step-who", "240px")
        self._s_unit = labelled(w.Text(description="责任单位"), "fk-step-unit", "260px")
        self._s_person = labelled(w.Text(description="责任人"), "fk-step-person", "200px")
        self._s_deadline = labelled(w.DatePicker(description="整改时限"), "fk-step-deadline", "230px")
        self._s_note = labelled(w.Text(description="情况说明"), "fk-step-note", "520px")
        self._s_evidence = labelled(w.Text(description="佐证材料", placeholder="照片、书面报告…"), "fk-step-evidence", "400px")
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

        m.observe(self._render, names=["kpis", "board_html", "overdue_html", "teams_html", "workload_html",
                                       "villages_html", "map_html", "status", "problem_options", "selected_html"])
        m.observe(self._prefill, names=["selected"])
        self._render()
        self._prefill()

        open_form = form_box("督查登记 / 新开问题", [
            row(self._o_date, self._o_team, self._o_method, self._o_type),
            row(self._o_village, self._o_target, self._o_category),
            self._o_desc, row(self._open, self._visit),
        ], "fk-open-form")
        loop_form = form_box("整改闭环：交办 → 整改 → 复查 → 销号", [
            self._problem, self._info,
            row(self._who, self._s_unit, self._s_person, self._s_deadline),
            row(self._s_note, self._s_done), self._s_evidence,
            row(*self._buttons.values()),
            row(self._acc, self._acc_save),
        ], "fk-loop-form")
        super().__init__(
            [
                w.HTML(page_header("督查整改", m.data) + EXTRA_CSS),
                row(self._operator, w.HTML("<span class='fk-note'>保存表单前请填写操作人</span>")),
                row(self._team, self._village, self._category, self._unit, self._overdue, self._day),
                w.HBox([
                    ExportBar(lambda: ("problems", m.data.ledgers["problems"][
                        m.data.ledgers["problems"]["problem_no"].isin(m.rows["problem_no"] if len(m.rows) else [])]),
                        lambda: f"督查问题{'-' + m.village if m.village else ''}", synthetic=m.data.synthetic),
                    MapExportBar(lambda: m.map_html, lambda: "督查问题分布图"),
                ]).add_class("fk-exports"),
                self._status,
                self._kpis,
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
                section("督查与整改登记"),
                open_form,
                loop_form,
            ],
            **kwargs,
        )
        self.add_class("fk-page")

    def _render(self, _change=None):
        m = self.model
        self._kpis.value = kpi_cards_html(m.kpis, KPI_LABELS)
        self._board.value = m.board_html
        self._overdue_list.value = m.overdue_html
        self._teams.value = m.teams_html
        self._workload.value = m.workload_html
        self._villages.value = m.villages_html
        self._map.value = m.map_html
        self._status.value = status_html(m.status, m.error)
        self._info.value = m.selected_html
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
