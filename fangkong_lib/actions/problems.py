"""Supervision and the rectification loop (督查, 问题整改): visits, problems
and the steps of the loop (发现 → 交办 → 整改中 → 复查 → 销号), each one
transaction under the ``problems`` lock.

The loop's steps take a ``kind`` (:class:`~fangkong_lib.domain.problems.LoopKind`,
default the supervision problems): the command's assigned tasks
(交办事项, :data:`~fangkong_lib.domain.problems.TASK_LOOP`) run through the
same functions, on their own ledgers and under their own lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

import pandas as pd
import sqlalchemy as sa

from .. import store
from ..domain import problems as loop
from ..ledgers import SUPERVISION_TEAMS, get_ledger
from .base import SUBJECTS, ActionError, Opened, StageResult, Tx, transaction


def _event_time(day: date, after: datetime | None) -> datetime:
    """Now on ``day`` (the form's date), strictly after the problem's last event."""
    when = datetime.combine(day, datetime.now().time()).replace(microsecond=0)
    if after is not None and not pd.isna(after) and when <= after:
        when = pd.Timestamp(after).to_pydatetime() + timedelta(seconds=1)
    return when


def record_supervision(db, visit: Mapping, problems: Iterable[Mapping] = (), *, user: str,
                       villages: Iterable[str] | None = None, today: date | None = None) -> Opened:
    """Record a supervision visit (督查记录) and open a problem for each of
    ``problems`` (stage 发现, history 发现).

    ``visit`` holds the supervisions ledger's fields (date, team, method,
    target, target_type, village…); each problem its own fields (category,
    description, and optionally unit, person, deadline…), the visit's
    date, team, target and village filled in. A visit already recorded
    (same date, team, target) gets its problem count raised; returns the
    problem numbers and the message. ``villages``
    narrows the villages a record may name (the user's scope); ``today``
    defaults to the data's today.

    Raises
    ------
    ActionError
        When a field is invalid or a problem has no description.
    """
    problems = [dict(p) for p in problems]
    for draft in problems:
        if not (draft.get("description") or "").strip():
            raise ActionError.about("description", "问题描述", "问题描述不能为空")
    with transaction(db, "problems", user=user) as tx:
        today = today or tx.today()
        names = tx.villages(villages)
        record = tx.clean("supervisions", {**visit, "problems_found": 0}, villages=names, today=today)
        drafts = [{"date": record["date"], "team": record["team"], "method": record.get("method"),
                   "target": record["target"], "target_type": record.get("target_type"),
                   "village": record.get("village"), "place_code": record.get("place_code"), **p}
                  for p in problems]
        table = store.TABLES["supervisions"]
        cond = [table.c[k] == record[k] for k in ("date", "team", "target")]
        existing = tx.conn.execute(sa.select(table.c.problems_found).where(*cond)).first()
        if existing is not None:
            record["problems_found"] = int(existing[0] or 0)
        record["problems_found"] += len(drafts)
        tx.upsert("supervisions", record)
        numbers = open_problems_in(tx, drafts, villages=names, today=today)
    message = f"已记录 {record['team']} {record['date'].isoformat()} 对{record['target']}的督查"
    return Opened(numbers, message + (f"，发现问题 {'、'.join(numbers)}" if numbers else ""))


def open_problem(db, raw: Mapping, *, user: str, villages: Iterable[str] | None = None,
                 today: date | None = None) -> Opened:
    """Open one problem (发现); the result names its number. A supervision
    team's problem also counts as one visit of that team (督查记录)."""
    raw = dict(raw)
    if raw.get("team") in SUPERVISION_TEAMS:
        visit = {k: raw.get(k) for k in ("date", "team", "method", "target", "target_type", "village", "place_code")}
        problem = {k: v for k, v in raw.items() if k not in visit}
        return record_supervision(db, visit, [problem], user=user, villages=villages, today=today)
    with transaction(db, "problems", user=user) as tx:
        numbers = open_problems_in(tx, [raw], villages=tx.villages(villages), today=today or tx.today())
    return Opened(numbers, f"已登记问题 {numbers[0]}")


def open_problems_in(tx: Tx, drafts: list[dict], *, villages: list[str], today: date,
                     kind: loop.LoopKind = loop.PROBLEM_LOOP) -> list[str]:
    """Open ``drafts`` as new problems (or items of ``kind``) inside ``tx``
    (which holds the kind's lock); returns their numbers."""
    numbers = []
    table = store.TABLES[kind.items]
    existing = [row[0] for row in tx.conn.execute(sa.select(table.c[kind.key]))]
    for draft in drafts:
        record = tx.clean(kind.items, {"stage": loop.FOUND, **kind.defaults,
                                       **{k: v for k, v in draft.items() if k not in (kind.key, "who", "time")},
                                       kind.key: "-"}, villages=villages, today=today)
        if record.get("stage") != loop.FOUND:
            raise ActionError.about("stage", "阶段", f"新{kind.noun}的阶段只能是「发现」", record.get("stage"))
        record[kind.key] = loop.next_problem_no(existing + numbers, record["date"].year, kind.prefix)
        tx.upsert(kind.items, record)
        event = tx.clean(kind.events, {
            kind.key: record[kind.key], "step": loop.FOUND,
            "time": draft.get("time") or _event_time(record["date"], None),  # a meeting's decision: its time
            "who": draft.get("who") or record.get("team") or tx.user, "note": record.get("description"),
        }, villages=None, today=today)
        tx.upsert(kind.events, event)
        numbers.append(record[kind.key])
    return numbers


@dataclass(frozen=True)
class Step:
    """One step of the loop as typed in a form."""

    step: str
    who: str = ""
    unit: str = ""
    person: str = ""
    deadline: date | None = None
    note: str = ""
    evidence: str = ""
    done: bool = False  # 整改中: the unit reports the rectification complete


def _problem(tx: Tx, problem_no: str, kind: loop.LoopKind = loop.PROBLEM_LOOP) -> dict:
    problem = tx.row(kind.items, **{kind.key: problem_no})
    if problem is None:
        label = get_ledger(kind.items)[kind.key].label
        raise ActionError.about(kind.key, label, f"没有编号为 {problem_no} 的{kind.noun}", problem_no)
    return problem


def _apply(problem: dict, step: Step, values: dict, day: date) -> None:
    """What a step changes on the problem row."""
    if step.step == loop.ASSIGNED:
        problem.update(unit=step.unit, person=step.person, deadline=step.deadline)
    elif step.step == loop.FIXING and step.done:
        problem["done_date"] = day
    elif step.step == loop.RECHECKED:
        problem["rechecker"] = values["who"]
        problem["done_date"] = problem.get("done_date") or day
    elif step.step == loop.FAILED:
        problem["rechecker"] = values["who"]
        problem["done_date"] = None  # not done after all
    if step.evidence:
        problem["evidence"] = step.evidence


def apply_steps(db, problem_no: str, steps: Iterable[Step], *, user: str, day: date,
                kind: loop.LoopKind = loop.PROBLEM_LOOP) -> StageResult:
    """Apply one or more steps to a problem (or an item of ``kind``) in one
    transaction; the result names its new stage. Each step is checked
    against the loop (:func:`fangkong_lib.domain.problems.check_step`); the
    first refusal raises ActionError and nothing is written."""
    with transaction(db, SUBJECTS[kind.items], user=user) as tx:
        stage = _apply_steps_in(tx, problem_no, list(steps), day, kind)
    return StageResult(problem_no, stage, f"{problem_no}：已记录，当前阶段「{stage}」")


def _apply_steps_in(tx: Tx, problem_no: str, steps: list[Step], day: date,
                    kind: loop.LoopKind = loop.PROBLEM_LOOP) -> str:
    """The steps of :func:`apply_steps` inside ``tx`` (which holds the lock)."""
    events = store.TABLES[kind.events]
    problem = _problem(tx, problem_no, kind)
    history = tx.frame(kind.events, events.c[kind.key] == problem_no)
    for step in steps:
        values = {"who": step.who or tx.user, "unit": step.unit or problem.get("unit"),
                  "person": step.person or problem.get("person"), "deadline": step.deadline,
                  "note": step.note, "evidence": step.evidence}
        if step.step == loop.ASSIGNED:
            values["unit"], values["person"] = step.unit, step.person
        try:
            new = loop.check_step(problem, step.step, values, history, kind=kind)
        except loop.TransitionError as exc:
            raise ActionError(f"{problem_no}：{exc}") from None
        last = history["time"].max() if len(history) else None
        event = tx.clean(kind.events, {
            kind.key: problem_no, "step": step.step, "time": _event_time(day, last),
            "who": values["who"], "note": step.note, "evidence": step.evidence,
            **({"unit": step.unit, "person": step.person, "deadline": step.deadline}
               if step.step == loop.ASSIGNED else {}),
        }, villages=None, today=day)
        tx.upsert(kind.events, event)
        history = pd.concat([history, pd.DataFrame([event]).assign(time=pd.Timestamp(event["time"]))],
                            ignore_index=True)
        problem["stage"] = new
        _apply(problem, step, values, day)
    tx.upsert(kind.items, problem)
    return problem["stage"]


def apply_step(db, problem_no: str, step: str, *, user: str, day: date,
               kind: loop.LoopKind = loop.PROBLEM_LOOP, **values) -> StageResult:
    """One step of the loop (see :func:`apply_steps`)."""
    return apply_steps(db, problem_no, [Step(step, **values)], user=user, day=day, kind=kind)


def recheck(db, problem_no: str, passed: bool, *, user: str, day: date, who: str = "",
            note: str = "", evidence: str = "", kind: loop.LoopKind = loop.PROBLEM_LOOP) -> StageResult:
    """Record a re-inspection (复查). Passed: 整改中 → 复查. Failed: the
    re-inspection and its failure (复查 → 复查未通过), back to 整改中 — from
    复查 only the failure is written. The stage is read under the lock, in
    the transaction that writes."""
    note = note.strip()
    word = kind.recheck_word
    with transaction(db, SUBJECTS[kind.items], user=user) as tx:
        stage = _problem(tx, problem_no, kind)["stage"]
        if passed:
            steps = [Step(loop.RECHECKED, who=who, note=note or f"{word}通过", evidence=evidence)]
        elif stage == loop.RECHECKED:
            steps = [Step(loop.FAILED, who=who, note=note, evidence=evidence)]
        else:
            steps = [Step(loop.RECHECKED, who=who, note=f"{word}：{note}" if note else "", evidence=evidence),
                     Step(loop.FAILED, who=who, note=note, evidence=evidence)]
        stage = _apply_steps_in(tx, problem_no, steps, day, kind)
    verdict = f"{word}通过" if passed else f"{word}未通过，退回{kind.fix_word}"
    return StageResult(problem_no, stage, f"{problem_no}：{verdict}，当前阶段「{stage}」")


def set_accountability(db, problem_no: str, outcome: str, *, user: str) -> str:
    """Record the accountability outcome (问责情况: 约谈/通报/诫勉, or 无) on
    a problem, audited; returns the message."""
    if outcome not in ("无", *loop.ACCOUNTABILITY):
        raise ActionError.about("accountability", "问责情况", f"问责情况「{outcome}」应为 约谈、通报、诫勉 或 无", outcome)
    with transaction(db, "problems", user=user) as tx:
        _problem(tx, problem_no)
        tx.upsert("problems", {"problem_no": problem_no, "accountability": outcome})
    return f"{problem_no}：已记录问责情况「{outcome}」"
