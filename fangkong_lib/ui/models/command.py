"""The command page's model (指挥调度, the 1+17+N command line), no widgets.

Set the filters (``village``, ``unit``, ``task_status``, ``day``, ``hour``:
"now" is ``day`` at ``hour``) and read ``kpis``, ``map_html``, the tables
and ``status``. Forms: :meth:`~CommandModel.record_meeting` (a meeting and
the tasks its decisions become), the task loop (:meth:`~CommandModel.assign`,
:meth:`~CommandModel.progress`, :meth:`~CommandModel.recheck`,
:meth:`~CommandModel.close`), :meth:`~CommandModel.record_report` (a
village's 17:00 report) and :meth:`~CommandModel.assign_duty`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import traitlets as t

from ... import actions
from ...domain import command as cmd
from ...domain import problems as loop
from ...domain.duty import shifts_for
from ...domain.reports import REPORT_LATE, REPORT_MISSING, village_report_status
from ...ingest.normalize import mask_frame
from ...ledgers import get_ledger
from ...policy.command_rhythm import load_rhythm
from ...views.command import make_command_map, task_board_html
from ...views.html import Markup, html
from ...views.maps import map_iframe, render_map
from ...views.tables import frame_html
from .base import ALL, PageModel

TASKS = loop.TASK_LOOP

KPI_LABELS = {
    "on_duty": "指挥部在岗",
    "duty_gaps": "值班缺岗(今明)",
    "meetings_held": "今日会议已开",
    "meetings_missing": "今日会议未开",
    "low_attendance": "到会率低",
    "tasks_open": "未办结交办",
    "tasks_overdue": "逾期交办",
    "tasks_done": "已办结交办",
    "reports_late": "今日迟报村",
    "reports_missing": "今日未报村",
}

UNIT_COLUMNS = {"unit": "单位名称", "kind": "类别", "parent": "上级单位", "lead": "负责人", "lead_title": "职务",
                "lead_phone": "负责人电话", "members": "成员人数", "duty": "职责", "tasks_open": "未办结交办",
                "tasks_overdue": "逾期", "missing": "待补"}
MEETING_COLUMNS = {"kind": "会议", "unit": "召开单位", "due": "规定时间", "status": "状态", "held_at": "召开时间",
                   "host": "主持人", "expected": "应到", "present": "实到", "attendance": "到会率", "flag": "提示",
                   "decisions": "交办事项"}
TASK_COLUMNS = {"task_no": "交办编号", "date": "交办日期", "source": "来源", "meeting_unit": "会议单位",
                "description": "交办事项", "village": "村", "unit": "责任单位", "person": "责任人",
                "deadline": "完成时限", "stage_word": "办理状态", "days_overdue": "逾期天数"}
REPORT_COLUMNS = {"村": "村", "status": "报告情况", "reported_at": "上报时间", "reported_under_control": "村报在管"}
EVENT_LABELS = {"step": "环节", "time": "时间", "who": "经办人", "unit": "责任单位", "person": "责任人",
                "deadline": "完成时限", "note": "情况说明", "evidence": "佐证材料"}
DUTY_COLUMNS = {"post": "点位", "shift": "班次", "start": "开始", "end": "结束", "roles": "值班人员",
                "required": "应到", "assigned": "已排", "reason": "缺员情况"}
DECISION_ROWS = 3


_FLAGGED = frozenset({REPORT_LATE, REPORT_MISSING, cmd.MEETING_MISSING, cmd.LOW_ATTENDANCE})


def _flag_cell(column, value):
    """Late, missing and low-attendance cells in red."""
    return "fk-flag" if isinstance(value, str) and value in _FLAGGED else None


class CommandModel(PageModel):
    """State of the command page: filters in, figures out."""

    filters = ("village", "unit", "task_status", "day", "hour")
    kpi_lists = tuple(KPI_LABELS)

    unit = t.Unicode(ALL)
    task_status = t.Unicode(ALL)
    day = t.Instance(date)
    hour = t.Int(8)

    structure_html = t.Unicode("")
    structure_label = t.Unicode("")
    duty_html = t.Unicode("")
    meetings_html = t.Unicode("")
    board_html = t.Unicode("")
    overdue_html = t.Unicode("")
    reports_html = t.Unicode("")
    calendar_html = t.Unicode("")
    task_options = t.List()
    selected = t.Unicode("")
    selected_html = t.Unicode("")
    selected_steps = t.List()

    def __init__(self, data, **kwargs):
        self.tasks = pd.DataFrame()
        self.meetings = pd.DataFrame()
        self.reports = pd.DataFrame()
        self.duty_now = pd.DataFrame()
        self.duty_gaps = pd.DataFrame()
        self.duty_today = pd.DataFrame()
        self._all_tasks = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        kwargs.setdefault("hour", datetime.now().hour)
        super().__init__(data, **kwargs)

    # -- Options ---------------------------------------------------------------------

    @property
    def units(self) -> pd.DataFrame:
        return self.data.ledgers["command_units"]

    @property
    def unit_names(self) -> list[str]:
        return cmd._unit_order(self.units)["unit"].tolist()

    @property
    def unit_options(self):
        return [("全部单位", ALL)] + [(u, u) for u in self.unit_names]

    @property
    def status_options(self):
        return [(label, key) for key, label in cmd.TASK_STATUSES.items()]

    @property
    def hour_options(self):
        return [(f"{h:02d}:00", h) for h in range(24)]

    @property
    def now(self) -> datetime:
        return datetime.combine(self.day, time(self.hour))

    @t.validate("unit")
    def _check_unit(self, proposal):
        return self.one_of(proposal["value"], self.unit_names, "单位")

    @t.validate("task_status")
    def _check_status(self, proposal):
        return self.one_of(proposal["value"], cmd.TASK_STATUSES, "办理状态")

    @t.validate("hour")
    def _check_hour(self, proposal):
        if not 0 <= proposal["value"] <= 23:
            raise t.TraitError(f"未知的时刻：{proposal['value']}")
        return proposal["value"]

    @t.observe("selected")
    def _on_selected(self, _change):
        self._describe_selected()

    def unit_row(self, unit: str) -> dict:
        rows = self.units[self.units["unit"] == unit]
        return rows.iloc[0].to_dict() if len(rows) else {}

    # -- Figures ----------------------------------------------------------------------

    def compute(self) -> str:
        if self.day is None:
            raise ValueError("请选择日期")
        ledgers = self.data.ledgers
        day = self.day
        self.structure_label = cmd.structure_label(self.units)
        self.structure_html = self._structure_html()
        status = cmd.meeting_status(self.units, ledgers["meetings"], ledgers["tasks"], day, now=self.now)
        if self.village:
            status = status[status["village"] == self.village]
        if self.unit:
            status = status[status["unit"] == self.unit]
        self.meetings = status
        all_tasks = cmd.filter_tasks(ledgers["tasks"], day, unit=self.unit, village=self.village)
        self.tasks = tasks = cmd.filter_tasks(ledgers["tasks"], day, status=self.task_status, unit=self.unit,
                                              village=self.village)
        reports = village_report_status(ledgers, day)
        if self.village:
            reports = reports[reports.index == self.village]
        self.reports = reports
        self._compute_duty()
        open_ = all_tasks[all_tasks["stage"] != loop.CLOSED]
        counted = {
            "on_duty": self._on_duty_people(),
            "duty_gaps": len(self.duty_gaps),
            "meetings_held": int((status["status"] == cmd.MEETING_HELD).sum()),
            "meetings_missing": int((status["status"] == cmd.MEETING_MISSING).sum()),
            "low_attendance": int((status["flag"] == cmd.LOW_ATTENDANCE).sum()),
            "tasks_open": len(open_),
            "tasks_overdue": int(open_["overdue"].sum()),
            "tasks_done": int((all_tasks["stage"] == loop.CLOSED).sum()),
            "reports_late": int((reports["status"] == REPORT_LATE).sum()),
            "reports_missing": int((reports["status"] == REPORT_MISSING).sum()),
        }
        self._all_tasks = all_tasks
        self.kpis = counted
        self.meetings_html = frame_html(self._meeting_rows(status), css_class="fk-table fk-meetings",
                                        empty="当日没有应开或已开的会议", cell_class=_flag_cell)
        self.board_html = task_board_html(loop.board(tasks, kind=TASKS))
        self.overdue_html = self._task_list(open_[open_["overdue"]], "没有逾期未办结的交办事项")
        self.reports_html = frame_html(self._report_rows(reports), css_class="fk-table fk-reports",
                                       empty="无", cell_class=_flag_cell)
        calendar = cmd.report_calendar(ledgers, day)
        if self.village:
            calendar = calendar[calendar.index == self.village]
        self.calendar_html = frame_html(calendar, index=True, css_class="fk-table fk-report-calendar",
                                        cell_class=_flag_cell)
        self.map_html = self._map_for(reports, open_)
        self.task_options = [
            (f"{r.task_no} · {r.stage_word}{' · 逾期' if r.overdue else ''} · {str(r.description)[:24]}", r.task_no)
            for r in tasks.sort_values("task_no", ascending=False).itertuples()
        ]
        codes = [c for _, c in self.task_options]
        if self.selected not in codes:
            self.selected = codes[0] if codes else ""
        self._describe_selected()
        scope = " · ".join(x for x in (self.shown_area, self.unit, cmd.TASK_STATUSES[self.task_status]) if x)
        return f"已更新：{scope} · {self.now:%Y-%m-%d %H:%M} · 交办事项 {len(tasks)} 件"

    def _compute_duty(self) -> None:
        """Who is on duty now, today's roster, the week at a glance and the
        gaps of today and tomorrow (the KPI) and of the week, at the HQ and
        the village HQs (the shared duty roster)."""
        ledgers, village = self.data.ledgers, self.village or None
        self.duty_now = cmd.duty_now(ledgers, self.now, village=village)
        self.duty_today = cmd.duty_roster(ledgers, self.day, village=village)
        self.duty_gaps = cmd.duty_gaps_on(ledgers, self.day, self.day + timedelta(days=1), village=village)
        monday, sunday = cmd.week_of(self.day)
        week_gaps = cmd.duty_gaps_on(ledgers, monday, sunday, village=village)
        now = self.duty_now[self.duty_now["kind"] == cmd.DUTY_HQ]
        today = self.duty_today[self.duty_today["kind"] == cmd.DUTY_HQ]
        branches = self.duty_now[self.duty_now["kind"] == cmd.DUTY_BRANCH]
        week = cmd.duty_week(ledgers, self.day, village=village)
        week_html = frame_html(week, index=True, css_class="fk-table fk-duty-week", empty="未排班",
                               cell_class=lambda c, v: "fk-flag" if isinstance(v, str) and "!" in v else None)
        staffed = int(branches["assigned"].sum()) if len(branches) else 0
        short = branches[branches["missing"] > 0]
        self.duty_html = str(html(
            "<div class='fk-duty'><b>指挥部当前值班（{at}）</b>{now}<b>指挥部今日排班</b>{today}"
            "<b>本周排班（已排/应排，! 为缺岗）</b>{week}"
            "<b>各村指挥部当前值班：{n} 个点位在岗 {staffed} 人，缺岗 {n_short} 个</b>{branches}"
            "<b>本周缺岗（{monday} 至 {sunday}，含尚未排班的日子）</b>{gaps}</div>",
            at=f"{self.now:%m-%d %H:%M}", monday=f"{monday:%m-%d}", sunday=f"{sunday:%m-%d}",
            n=len(branches), staffed=staffed, n_short=len(short),
            now=Markup(self._roster_html(now, "指挥部当前无人值班")),
            today=Markup(self._roster_html(today, "指挥部今日未排班")), week=Markup(week_html),
            branches=Markup(self._roster_html(short, "各村指挥部当前均有人值班")) if len(branches) else "",
            gaps=Markup(self._gaps_by_post_html(week_gaps)),
        ))

    @staticmethod
    def _gaps_by_post_html(gaps: pd.DataFrame) -> str:
        """One row per post: its short shifts of the week and what they lack."""
        if gaps.empty:
            return frame_html(gaps, empty="本周排班齐全，无缺岗")
        shifts = [f"{pd.Timestamp(d):%m-%d}{s}" for d, s in zip(gaps["date"], gaps["shift"])]
        grouped = gaps.assign(when=shifts).groupby("post", sort=False).agg(
            when=("when", " ".join), missing=("missing", "sum"), reason=("reason", "first"))
        shown = grouped.reset_index().rename(columns={"post": "点位", "when": "缺岗班次", "missing": "共缺人次",
                                                      "reason": "缺员情况（首个）"})
        return frame_html(shown, css_class="fk-table fk-issues fk-roster fk-week-gaps")

    def _on_duty_people(self) -> int:
        now = self.duty_now
        return int(now.loc[now["kind"] == cmd.DUTY_HQ, "assigned"].sum()) if len(now) else 0

    @staticmethod
    def _roster_html(rows: pd.DataFrame, empty: str) -> str:
        shown = rows.assign(start=pd.to_datetime(rows["start"]).dt.strftime("%m-%d %H:%M"),
                            end=pd.to_datetime(rows["end"]).dt.strftime("%m-%d %H:%M"))
        shown = shown[list(DUTY_COLUMNS)].rename(columns=DUTY_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-issues fk-roster", empty=empty,
                          cell_class=lambda c, v: "fk-flag" if c == "缺员情况" and isinstance(v, str) and v else None)

    def _structure_html(self) -> str:
        table = cmd.structure_table(self.units, self.data.ledgers["tasks"], self.day)
        if self.unit:
            table = table[table["unit"] == self.unit]
        elif self.village:
            table = table[(table["village"] == self.village) | (table["kind"] != cmd.BRANCH)]
        shown = mask_frame(table, get_ledger("command_units"))[list(UNIT_COLUMNS)].rename(columns=UNIT_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-units", empty="指挥体系尚未登记（可在台账导入中导入「指挥体系」）")

    @staticmethod
    def _meeting_rows(status: pd.DataFrame) -> pd.DataFrame:
        shown = status.assign(due=status["due"].dt.strftime("%H:%M").fillna("—"),
                              held_at=pd.to_datetime(status["held_at"]).dt.strftime("%H:%M").fillna(""),
                              attendance=status["attendance"].map(lambda v: f"{v:.0%}" if v == v else ""))
        return shown[list(MEETING_COLUMNS)].rename(columns=MEETING_COLUMNS)

    @staticmethod
    def _report_rows(reports: pd.DataFrame) -> pd.DataFrame:
        shown = reports.reset_index()
        shown["reported_at"] = pd.to_datetime(shown["reported_at"]).dt.strftime("%H:%M").fillna("—")
        shown["reported_under_control"] = shown["reported_under_control"].astype("Int64")
        return shown[list(REPORT_COLUMNS)].rename(columns=REPORT_COLUMNS)

    def _task_list(self, rows: pd.DataFrame, empty: str = "没有记录") -> str:
        rows = rows.assign(days_overdue=[
            (pd.Timestamp(self.day) - pd.Timestamp(d)).days if o and pd.notna(d) else None
            for d, o in zip(rows["deadline"], rows["overdue"])]).astype({"days_overdue": "Int64"})
        shown = mask_frame(rows, get_ledger("tasks"))[list(TASK_COLUMNS)].rename(columns=TASK_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-issues fk-tasks", empty=empty)

    def _map_for(self, reports: pd.DataFrame, open_: pd.DataFrame) -> str:
        counts = open_.groupby("village").size()
        late = open_[open_["overdue"]].groupby("village").size()
        key = (tuple(reports["status"].items()), tuple(counts.items()), tuple(late.items()), self.village, self.day)
        return self.cached_map(key, lambda: self._build_map(reports, counts, late))

    def _build_map(self, reports, counts, late) -> str:
        hq = self.units[self.units["kind"] == cmd.HQ]
        m = make_command_map(self.data.villages, village_report_status(self.data.ledgers, self.day), counts, late,
                             township=self.data.township, day=self.day,
                             hq=hq.iloc[0].to_dict() if len(hq) else None, village=self.village or None,
                             note=self.data.source_note)
        return map_iframe(render_map(m), height=500, title=f"{self.data.township}指挥调度图")

    # -- KPI lists -------------------------------------------------------------------

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in KPI_LABELS:
            return None
        if key in ("tasks_open", "tasks_overdue", "tasks_done"):
            rows = self._all_tasks
            chosen = {"tasks_open": rows["stage"] != loop.CLOSED,
                      "tasks_overdue": (rows["stage"] != loop.CLOSED) & rows["overdue"],
                      "tasks_done": rows["stage"] == loop.CLOSED}[key]
            return KPI_LABELS[key], self._task_list(rows[chosen])
        if key in ("meetings_held", "meetings_missing", "low_attendance"):
            status = self.meetings
            chosen = {"meetings_held": status["status"] == cmd.MEETING_HELD,
                      "meetings_missing": status["status"] == cmd.MEETING_MISSING,
                      "low_attendance": status["flag"] == cmd.LOW_ATTENDANCE}[key]
            return KPI_LABELS[key], frame_html(self._meeting_rows(status[chosen]), css_class="fk-table fk-kpi-rows",
                                               empty="没有记录", cell_class=_flag_cell)
        if key in ("reports_late", "reports_missing"):
            state = REPORT_LATE if key == "reports_late" else REPORT_MISSING
            rows = self.reports[self.reports["status"] == state]
            return KPI_LABELS[key], frame_html(self._report_rows(rows), css_class="fk-table fk-kpi-rows",
                                               empty="没有记录", cell_class=_flag_cell)
        return KPI_LABELS[key], self._duty_list(key)

    def _duty_list(self, key: str) -> str:
        if key == "on_duty":  # one row per person on duty at the HQ now
            now = self.duty_now[self.duty_now["kind"] == cmd.DUTY_HQ]
            people = now.assign(person=now["roles"].str.split("、")).explode("person")
            people = people[people["person"].fillna("") != ""]
            shown = people[["post", "shift", "person"]].rename(columns={"post": "点位", "shift": "班次",
                                                                         "person": "值班人员"})
            return frame_html(shown, css_class="fk-table fk-issues fk-roster", empty="指挥部当前无人值班")
        return self._roster_html(self.duty_gaps, "排班齐全，无缺岗")

    # -- The selected task -------------------------------------------------------------

    def task(self, task_no: str) -> dict:
        tasks = self.data.ledgers["tasks"]
        match = tasks[tasks["task_no"] == task_no]
        if match.empty:
            raise ValueError(f"没有编号为 {task_no} 的交办事项")
        return match.iloc[0].to_dict()

    def _describe_selected(self) -> None:
        if not self.selected:
            self.selected_html, self.selected_steps = "", []
            return
        try:
            task = self.task(self.selected)
        except ValueError as exc:
            self.selected_html, self.selected_steps = str(html("<span class='fk-flag'>{e}</span>", e=exc)), []
            return
        steps = list(loop.allowed_steps(task["stage"]))
        history = loop.problem_history(self.data.ledgers["task_events"], self.selected, kind=TASKS)
        late = bool(loop.is_overdue(pd.DataFrame([task]), self.day).iloc[0])
        nexts = "、".join(TASKS.step_actions[s] for s in steps) or "无（已办结）"
        deadline = pd.Timestamp(task["deadline"]).strftime("%Y-%m-%d") if pd.notna(task["deadline"]) else "未定"
        info = html(
            "<div class='fk-stage-info'><b>{no}</b> 办理状态："
            "<b data-stage='{stage}' class='fk-current-stage'>{word}</b>{late} · 下一步：{nexts}<br>"
            "{description} · 来源：{source}（{meeting}） · 责任单位：{unit} · 责任人：{person} · 完成时限：{deadline}</div>",
            no=task["task_no"], stage=task["stage"], word=TASKS.stage_words.get(task["stage"], task["stage"]),
            late=html("<span class=fk-flag>（逾期）</span>") if late else "", nexts=nexts,
            description=task["description"] or "", source=task["source"] or "", meeting=task["meeting_unit"] or "",
            unit=task["unit"] or "未交办", person=task["person"] or "", deadline=deadline,
        )
        shown = history[list(EVENT_LABELS)].assign(step=history["step"].map(
            lambda s: TASKS.step_actions.get(s, s) if s != loop.FOUND else "议定")).rename(columns=EVENT_LABELS)
        self.selected_html = str(info) + frame_html(shown, css_class="fk-table fk-history", empty="无办理过程记录")
        self.selected_steps = steps

    # -- Forms -------------------------------------------------------------------------

    _RELOAD = ("meetings", "tasks", "task_events")

    def record_meeting(self, *, date_: date | None = None, kind: str, unit: str, held_at: str = "",
                       host: str = "", expected=None, present=None, absent: str = "", topics: str = "",
                       decisions=()) -> bool:
        """Record a meeting; each decision (``description``, ``unit``,
        ``person``, ``deadline``, ``village``) becomes an assigned task. A
        decision's person defaults to its unit's lead, its deadline to the
        rhythm's ``task_days`` after the meeting. Selects the first new task."""
        day = date_ or self.day
        created: list[str] = []

        def act():
            row = self.unit_row(unit)
            village = row.get("village") if isinstance(row.get("village"), str) else None
            raw = dict(date=day, kind=kind, unit=unit, village=village,
                       held_at=f"{day.isoformat()} {held_at.strip()}" if held_at.strip() else None,
                       host=host.strip() or None, expected=expected, present=present, absent=absent.strip() or None,
                       topics=topics.strip() or None)
            items = []
            for d in decisions:
                text = (d.get("description") or "").strip()
                if not text:
                    continue
                owner = d.get("unit") or ""
                lead = self.unit_row(owner).get("lead") if owner else None
                items.append(dict(description=text, unit=owner, person=(d.get("person") or "").strip() or lead,
                                  deadline=d.get("deadline") or day + timedelta(days=load_rhythm().task_days),
                                  village=d.get("village") or village))
            result = actions.record_meeting(self.data.engine, raw, items, user=self.operator, today=self.data.today)
            created.extend(result.task_nos)
            return result.message
        ok = self.run(act, reload=self._RELOAD)
        if ok and created:
            said = self.status
            if self.task_status == "done":  # show the new tasks
                self.task_status = ALL
            self.selected = created[0]
            self._describe_selected()
            self.status = said
        return ok

    def _step(self, task_no: str, steps, message: str) -> bool:
        def act():
            if not task_no:
                raise ValueError("请先选择交办事项")
            stage = actions.apply_steps(self.data.engine, task_no, steps, user=self.operator, day=self.day,
                                        kind=TASKS).stage
            return f"{task_no}：{message}，办理状态：{TASKS.stage_words[stage]}"
        ok = self.run(act, reload=self._RELOAD)
        self._describe_selected()
        return ok

    def assign(self, task_no: str, *, unit: str, person: str, deadline: date | None, note: str = "",
               who: str = "") -> bool:
        """交办 (待交办 → 已交办): unit, person, deadline."""
        step = actions.Step(loop.ASSIGNED, who=who, unit=unit.strip(), person=person.strip(), deadline=deadline,
                            note=note.strip() or "交办落实")
        return self._step(task_no, [step], f"已交办 {unit}（{person}），完成时限 {deadline}")

    def progress(self, task_no: str, *, note: str, evidence: str = "", done: bool = False, who: str = "") -> bool:
        """报告办理进展 (已交办 → 办理中); ``done``: the unit reports it done."""
        step = actions.Step(loop.FIXING, who=who, note=note.strip(), evidence=evidence.strip(), done=done)
        return self._step(task_no, [step], "已记录办理进展" + ("（已办完，待核验）" if done else ""))

    def recheck(self, task_no: str, *, passed: bool, note: str = "", evidence: str = "", who: str = "") -> bool:
        """核验: passed (办理中 → 已核验) or not (back to 办理中)."""
        def act():
            if not task_no:
                raise ValueError("请先选择交办事项")
            stage = actions.recheck(self.data.engine, task_no, passed, user=self.operator, day=self.day, who=who,
                                    note=note, evidence=evidence, kind=TASKS).stage
            return f"{task_no}：核验{'通过' if passed else '未通过，退回办理'}，办理状态：{TASKS.stage_words[stage]}"
        ok = self.run(act, reload=self._RELOAD)
        self._describe_selected()
        return ok

    def close(self, task_no: str, *, note: str = "", evidence: str = "", who: str = "") -> bool:
        """办结 (已核验 → 已办结): only after a passed check."""
        step = actions.Step(loop.CLOSED, who=who, note=note.strip() or "办理到位，予以办结", evidence=evidence.strip())
        return self._step(task_no, [step], "已办结")

    # -- Duty ----------------------------------------------------------------------------

    @property
    def post_options(self) -> list[tuple[str, str]]:
        """The HQ's and the village HQs' duty posts (for the duty form)."""
        posts = cmd.duty_posts(self.data.ledgers)
        return [(n, n) for n in posts["name"]]

    def shift_options(self, post: str) -> list[str]:
        posts = cmd.duty_posts(self.data.ledgers)
        kind = posts.loc[posts["name"] == post, "kind"]
        return [s.name for s in shifts_for(kind.iloc[0])] if len(kind) else []

    def assign_duty(self, *, post: str, shift: str, name: str, phone: str = "", role: str = "",
                    date_: date | None = None, note: str = "") -> bool:
        """Put a person on a shift of the HQ or a village HQ (the shared roster's action)."""
        def act():
            raw = dict(date=date_ or self.day, post=post, shift=shift, name=name.strip(), phone=phone.strip() or None,
                       role=role or None, note=note.strip() or None)
            return actions.assign_duty(self.data.engine, raw, user=self.operator, today=self.data.today)
        return self.run(act, reload=("duty_shifts",))

    def record_report(self, *, village: str, date_: date | None = None, at: str = "", zero: bool = False,
                      new_away=0, arrivals=0, under_control=0, fevers=0, reporter: str = "", note: str = "") -> bool:
        """A village's daily report (日报告, or 零报告 when ``zero``) for
        ``date_`` received at ``at`` (HH:MM, default: now)."""
        day = date_ or self.day

        def act():
            when = at.strip() or datetime.now().strftime("%H:%M")
            raw = dict(date=day, village=village, reported_at=f"{day.isoformat()} {when}", zero_report=zero,
                       new_away=new_away, arrivals=arrivals, under_control=under_control, fevers=fevers,
                       reporter=reporter.strip() or None, note=note.strip() or None)
            return actions.record_village_report(self.data.engine, raw, user=self.operator, today=self.data.today)
        return self.run(act, reload=("village_reports",))
