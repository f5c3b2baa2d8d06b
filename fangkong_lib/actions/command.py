"""指挥调度 (command): a meeting and the tasks its decisions become, and a
village's 17:00 report, each one transaction.

A decision of a meeting becomes an assigned task (交办事项) that runs
through the rectification loop's machinery (:mod:`.problems` with
:data:`~fangkong_lib.domain.problems.TASK_LOOP`): opened (发现) and handed
over (交办: unit, person, deadline) in the transaction that records the
meeting; progress, the check (核验) and 办结 are the loop's own steps
(:func:`~.problems.apply_steps`, :func:`~.problems.recheck` with
``kind=TASK_LOOP``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

import sqlalchemy as sa

from .. import store
from ..domain import problems as loop
from ..ingest.validate import Problem
from .base import SUBJECTS, ActionError, transaction
from .problems import Step, _apply_steps_in, open_problems_in

__all__ = ["MeetingResult", "record_meeting", "record_village_report"]

TASKS = loop.TASK_LOOP


@dataclass(frozen=True)
class MeetingResult:
    """A recorded meeting and the tasks (交办编号) its decisions became."""

    task_nos: list[str]
    message: str

    def __str__(self) -> str:
        return self.message


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def record_meeting(db, meeting: Mapping, decisions: Iterable[Mapping] = (), *, user: str,
                   today: date | None = None) -> MeetingResult:
    """Record a meeting (会议记录: date, kind, unit, time, host, attendance,
    topics) and turn each of ``decisions`` into an assigned task.

    Each decision holds ``description`` (the decision), ``unit``, ``person``
    and ``deadline`` (all required: a decision nobody owns is not a
    decision), optionally ``village``. The task is opened (发现) and handed
    over (交办) at once, its history saying so. A meeting already recorded
    (same date, kind and unit) is updated and its new decisions added. The
    meeting's unit must be one of the command structure's units.

    Raises
    ------
    ActionError
        Naming every bad field of the meeting and every incomplete decision;
        nothing is written.
    """
    decisions = [dict(d) for d in decisions if not all(_blank(v) for v in dict(d).values())]
    with transaction(db, SUBJECTS["meetings"], user=user) as tx:
        today = today or tx.today()
        villages = tx.villages()
        record = tx.clean("meetings", meeting, villages=villages, today=today)
        units = store.TABLES["command_units"]
        known = {r[0] for r in tx.conn.execute(sa.select(units.c.unit))}
        if known and record["unit"] not in known:
            raise ActionError.refused("unit", "召开单位", "不是指挥体系中的单位（请先在指挥体系中登记）", record["unit"])
        problems = []
        for n, d in enumerate(decisions, start=1):
            missing = [label for key, label in (("description", "议定事项"), ("unit", "责任单位"), ("person", "责任人"),
                                                 ("deadline", "完成时限")) if _blank(d.get(key))]
            if missing:
                problems.append(Problem("decisions", f"议定事项{n}", str(d.get("description") or ""),
                                        f"须填写{'、'.join(missing)}"))
        if problems:
            raise ActionError.of(problems, "会议记录：")
        old = tx.row("meetings", date=record["date"], kind=record["kind"], unit=record["unit"])
        texts = [d["description"].strip() for d in decisions]
        earlier = (old or {}).get("decisions") or ""
        if texts or "decisions" not in record or _blank(record.get("decisions")):
            record["decisions"] = "；".join([t for t in (earlier, *texts) if t]) or None
        tx.upsert("meetings", record)
        drafts = [{"date": record["date"], "source": record["kind"], "meeting_unit": record["unit"],
                   "village": d.get("village") or record.get("village"), "description": d["description"],
                   "who": record.get("host") or tx.user, "time": record.get("held_at")}
                  for d in decisions]
        numbers = open_problems_in(tx, drafts, villages=villages, today=today, kind=TASKS)
        for number, d in zip(numbers, decisions):
            step = Step(loop.ASSIGNED, who=record.get("host") or tx.user, unit=str(d["unit"]).strip(),
                        person=str(d["person"]).strip(), deadline=d["deadline"],
                        note=f"{record['kind']}议定，交办落实")
            _apply_steps_in(tx, number, [step], record["date"], TASKS)
    said = f"已记录 {record['date'].isoformat()} {record['unit']}{record['kind']}"
    if numbers:
        said += f"，交办事项 {'、'.join(numbers)}"
    return MeetingResult(numbers, said)


def record_village_report(db, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Save a village's daily report (日报告 or 零报告) for one day.

    The same validation as an imported row. A report already in for that
    village and day is corrected, keeping the time it first came in (a
    correction does not make an on-time report late, nor a late one on
    time). Returns the message to show.
    """
    with transaction(db, SUBJECTS.get("village_reports", "village_reports"), user=user) as tx:
        today = today or tx.today()
        record = tx.clean("village_reports", raw, villages=tx.villages(), today=today)
        old = tx.row("village_reports", date=record["date"], village=record["village"])
        first = old.get("reported_at") if old else None
        if first is not None and first < record["reported_at"]:
            record["reported_at"] = first
        action = tx.upsert("village_reports", record)
    kind = "零报告" if record.get("zero_report") else "日报告"
    verb = {"inserted": "已收到", "updated": "已更正", "unchanged": "内容未变："}.get(action, action)
    return f"{verb}{record['village']} {record['date'].isoformat()} 的{kind}（上报时间 {record['reported_at']:%H:%M}）"
