"""The supervision page's model (督查整改, supervision and rectification), no widgets.

Set the filter traits (``team``, ``village``, ``category``, ``unit``,
``overdue``, ``day``) and read ``kpis``, ``board_html``, ``map_html``, the
tables and ``status``; choose a problem with ``selected`` and move it along
the rectification loop with :meth:`~SupervisionModel.assign`,
:meth:`~SupervisionModel.progress`, :meth:`~SupervisionModel.recheck`,
:meth:`~SupervisionModel.close`; open one with
:meth:`~SupervisionModel.open_problem`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import traitlets as t

from ... import actions as records
from ...domain import problems as loop
from ...ledgers import PROBLEM_CATEGORIES, SUPERVISION_TEAMS, get_ledger
from ...views.boards import problem_board_html
from ...views.html import html
from ...views.maps import map_iframe, render_map
from ...views.page_maps import make_problems_map
from ...views.tables import frame_html
from .base import ALL, PageModel

#: Columns of the problem and visit lists the KPI cards open.
PROBLEM_COLUMNS = ["problem_no", "date", "team", "village", "target", "category", "stage", "unit", "person",
                   "deadline", "accountability"]
VISIT_COLUMNS = ["date", "team", "method", "target", "village"]

TEAM_CHOICES = SUPERVISION_TEAMS + ("场所检查",)

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


class SupervisionModel(PageModel):
    """State of the supervision page: filters in, board and figures out."""

    filters = ("team", "village", "category", "unit", "overdue", "day")
    kpi_lists = tuple(KPI_LABELS)

    team = t.Unicode(ALL)
    category = t.Unicode(ALL)
    unit = t.Unicode(ALL)
    overdue = t.Bool(False)
    day = t.Instance(date)

    count = t.Int(0)
    board_html = t.Unicode("")
    overdue_html = t.Unicode("")
    teams_html = t.Unicode("")
    workload_html = t.Unicode("")
    villages_html = t.Unicode("")
    problem_options = t.List()
    selected = t.Unicode("")
    selected_html = t.Unicode("")
    selected_steps = t.List()  # steps the selected problem may take next

    def __init__(self, data, **kwargs):
        self.rows = pd.DataFrame()
        self.visits = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        super().__init__(data, **kwargs)

    # -- Options -------------------------------------------------------------

    @property
    def team_options(self):
        return [("全部督查组", ALL)] + [(x, x) for x in TEAM_CHOICES]

    @property
    def category_options(self):
        return [("全部类别", ALL)] + [(c, c) for c in PROBLEM_CATEGORIES]

    @property
    def unit_options(self):
        units = sorted(u for u in self.data.ledgers["problems"]["unit"].dropna().unique() if u)
        return [("全部责任单位", ALL)] + [(u, u) for u in units]

    @t.validate("team")
    def _check_team(self, proposal):
        return self.one_of(proposal["value"], TEAM_CHOICES, "督查组")

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

    def compute(self) -> str:
        """Recompute board, KPIs, tables and map."""
        if self.day is None:
            raise ValueError("请选择日期")
        ledgers = self.data.ledgers
        problems, events = ledgers["problems"], ledgers["problem_events"]
        rows = loop.filter_problems(problems, self.day, team=self.team, village=self.village,
                                    category=self.category, unit=self.unit, overdue=self.overdue)
        self.rows = rows
        self.count = len(rows)
        self.visits = visits = self._visits()
        self.kpis = {key: len(self._counted(key)) for key in KPI_LABELS}
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
        scope = " · ".join(x for x in (self.team, self.shown_area, self.category, self.unit,
                                       "只看逾期" if self.overdue else "") if x)
        return f"已更新：{scope} · {len(rows)} 个问题 · {self.day.isoformat()}"

    def _counted(self, key: str) -> pd.DataFrame:
        """The rows KPI ``key`` counts (problems, or visits for 督查次数)."""
        rows = self.rows
        if key == "visits":
            return self.visits
        if key == "found" or rows.empty:
            return rows
        selectors = {
            "open": rows["stage"] != loop.CLOSED,
            "problems_overdue": rows["overdue"].astype(bool),
            "fixing": rows["stage"] == loop.FIXING,
            "to_close": rows["stage"] == loop.RECHECKED,
            "closed": rows["stage"] == loop.CLOSED,
            "accountability": rows["accountability"].isin(loop.ACCOUNTABILITY),
        }
        return rows[selectors[key]]

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in KPI_LABELS:
            return None
        rows = self._counted(key)
        ledger = get_ledger("supervisions" if key == "visits" else "problems")
        columns = VISIT_COLUMNS if key == "visits" else PROBLEM_COLUMNS
        shown = rows[[c for c in columns if c in rows.columns]].rename(columns=ledger.labels)
        return KPI_LABELS[key], frame_html(shown, css_class="fk-table fk-issues fk-kpi-rows", empty="没有记录")

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
        key = (tuple(sorted(counts.items())), self.village, self.day)
        return self.cached_map(key, lambda: self._build_map(counts, len(open_rows)))

    def _build_map(self, counts: pd.Series, open_count: int) -> str:
        m = make_problems_map(self.data.villages, counts, township=self.data.township, day=self.day,
                              village=self.village or None, note=self.data.source_note)
        return map_iframe(render_map(m), height=480, title=f"{self.data.township}督查问题分布")

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
            self.selected_html, self.selected_steps = str(html("<span class='fk-flag'>{exc}</span>", exc=exc)), []
            return
        steps = list(loop.allowed_steps(p["stage"]))
        history = loop.problem_history(self.data.ledgers["problem_events"], self.selected)
        late = bool(loop.is_overdue(pd.DataFrame([p]), self.day).iloc[0])
        nexts = "、".join(loop.STEP_ACTIONS[s] for s in steps) or "无（已销号）"
        deadline = pd.Timestamp(p["deadline"]).strftime("%Y-%m-%d") if pd.notna(p["deadline"]) else "未定"
        info = html(
            "<div class='fk-stage-info'><b>{no}</b> 当前阶段："
            "<b data-stage='{stage}' class='fk-current-stage'>{stage}</b>{late} · 下一步：{nexts}<br>"
            "{description} · 责任单位：{unit} · 责任人：{person} · 整改时限：{deadline} · 问责：{accountability}</div>",
            no=p["problem_no"], stage=p["stage"], late=html("<span class=fk-flag>（逾期）</span>") if late else "",
            nexts=nexts, description=p["description"] or "", unit=p["unit"] or "未交办", person=p["person"] or "",
            deadline=deadline, accountability=p["accountability"] or "无",
        )
        shown = history[list(EVENT_LABELS)].rename(columns=EVENT_LABELS)
        self.selected_html = str(info) + frame_html(shown, css_class="fk-table fk-history", empty="无整改过程记录")
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
                                               villages=self.data.village_names, today=self.data.today).problem_no)
            return f"已新开问题 {number[0]}（{target or village} · {category}），下一步：交办"
        ok = self.run(act, reload=self._RELOAD)
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
        return self.run(act, reload=self._RELOAD)

    def _step(self, problem_no: str, steps, message: str) -> bool:
        def act():
            if not problem_no:
                raise ValueError("请先选择问题")
            stage = records.apply_steps(self.data.engine, problem_no, steps, user=self.operator, day=self.day).stage
            return f"{problem_no}：{message}，当前阶段：{stage}"
        ok = self.run(act, reload=self._RELOAD)
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
                                    who=who, note=note, evidence=evidence).stage
            return f"{problem_no}：复查{'通过' if passed else '未通过'}，当前阶段：{stage}"
        ok = self.run(act, reload=self._RELOAD)
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
        ok = self.run(act, reload=("problems",))
        self._describe_selected()
        return ok
