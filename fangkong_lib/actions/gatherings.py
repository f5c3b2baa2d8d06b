"""Gatherings (红白事报备): reporting one, the village's and the township's
approval, and the joint enforcement team's actions (联合执法).

Every write runs in one transaction under the ``gatherings`` lock, audited
as the operator. A report that breaks the rules of ``policy/gatherings.toml``
is recorded (it is a fact: the village must act on it) and the result names
each breach; approving it is refused with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

from ..domain.gatherings import (
    APPROVED, PENDING, REFUSED, STEPS, breach_text, check_step, gathering_breaches, gathering_label, now_on,
)
from .base import ActionError, transaction

__all__ = ["GatheringResult", "log_enforcement", "report_gathering", "review_gathering"]

SUBJECT = "gatherings"
#: Fields a change of which sends an approved report back to 待审批.
_SUBSTANCE = ("village", "place", "expected_people", "tables", "outside_guests", "pledge", "supervisor",
              "deceased_at", "supervised", "separate_meals")

_REVIEW_FIELDS = ("approval", "village_reviewer", "village_reviewed_at", "township_reviewer", "township_reviewed_at",
                  "refusal")


@dataclass(frozen=True)
class GatheringResult:
    """A gathering after an action: its label, approval state and breaches."""

    label: str
    approval: str
    breaches: list[str] = field(default_factory=list)
    message: str = ""

    def __str__(self) -> str:
        return self.message


def _differs(old: Mapping, new: Mapping) -> bool:
    def norm(v):
        return None if v in ("", None) or (isinstance(v, float) and v != v) else v
    return any(k in new and norm(old.get(k)) != norm(new.get(k)) for k in _SUBSTANCE)


def report_gathering(db, raw: Mapping, *, user: str, today: date | None = None) -> GatheringResult:
    """Record a wedding or funeral report (红白事报备), validated like an
    imported row; 报备时间 defaults to now on the data's today and 审批 to
    待审批. A report of the same 事主, 类型 and 日期 replaces the earlier one;
    if it changes the gathering itself, the approval starts again.

    Returns the result naming the rules the gathering breaks (it is saved
    all the same); raises :class:`ActionError` for invalid input.
    """
    # the approval is the reviewers' to give (review_gathering), never the reporter's
    raw = {k: v for k, v in raw.items() if k not in _REVIEW_FIELDS}
    with transaction(db, SUBJECT, user=user) as tx:
        day = today or tx.today()
        if not raw.get("reported_at"):
            raw["reported_at"] = now_on(day)
        record = tx.clean("gatherings", raw, villages=tx.villages(), today=day)
        old = tx.row("gatherings", **{k: record[k] for k in ("host", "date", "kind")})
        restarted = False
        if old is None or _differs(old, record) or old.get("approval") == REFUSED:
            restarted = old is not None and (old.get("approval") or PENDING) != PENDING
            record.update(approval=PENDING, village_reviewer=None, village_reviewed_at=None,
                          township_reviewer=None, township_reviewed_at=None, refusal=None)
        else:
            record.pop("approval", None)
        tx.upsert("gatherings", record)
        state = record.get("approval") or old.get("approval") or PENDING
        whole = {**(old or {}), **record}
    breaches = gathering_breaches(whole)
    label = gathering_label(whole)
    message = f"已报备：{label}（{state}）"
    if restarted:
        message += "；报备内容有变，须重新审批"
    if breaches:
        message += f"；不符合项：{breach_text(breaches)}（已登记，请劝导整改，不能批准）"
    return GatheringResult(label, state, breaches, message)


def review_gathering(db, key: Mapping, level: str, *, approve: bool, user: str, reason: str = "",
                     at: datetime | None = None, today: date | None = None) -> GatheringResult:
    """The village's (``level="村"``) or the township's (``"乡"``) decision
    on the report ``key`` (事主 ``host``, 日期 ``date``, 类型 ``kind``):
    approve (村已审批 / 乡已审批) or refuse (不予批准, with ``reason``).

    Raises
    ------
    ActionError
        Unknown report; a step out of order (the township before the
        village); approving a gathering that breaks the rules (the breaches
        are named); refusing without a reason.
    """
    if level not in STEPS:
        raise ActionError.about("level", "审批层级", f"未知的审批层级：{level}（应为 村 或 乡）", level)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ActionError.about("refusal", "不予批准理由", "不予批准须写明理由")
    with transaction(db, SUBJECT, user=user) as tx:
        day = today or tx.today()
        when = at or now_on(day)
        try:
            match = {"host": key["host"], "date": key["date"], "kind": key["kind"]}
        except KeyError:
            raise ActionError.about("gathering", "红白事", "请选择要审批的红白事报备") from None
        row = tx.row("gatherings", **match)
        if row is None:
            raise ActionError.about("gathering", "红白事", f"没有这条红白事报备：{gathering_label(match)}")
        label = gathering_label(row)
        problems = check_step(row, level, approve)
        if problems:
            raise ActionError.about("approval", "审批", f"{label}：{'；'.join(problems)}", row.get("approval"))
        who = "village" if level == "村" else "township"
        change = {**match, f"{who}_reviewer": tx.user, f"{who}_reviewed_at": when,
                  "approval": STEPS[level].after if approve else REFUSED}
        if not approve:
            change["refusal"] = f"{level}：{reason}"
        tx.upsert("gatherings", change)
    state = change["approval"]
    if approve:
        message = f"{label}：{level}已批准（{state}）" + ("，审批完成" if state == APPROVED else "，待乡里审批")
    else:
        message = f"{label}：{level}不予批准，理由：{reason}"
    return GatheringResult(label, state, gathering_breaches(row), message)


def log_enforcement(db, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Log an action of the joint enforcement team (联合执法) against a
    gathering (``target_type="红白事"`` with 事主 ``host``, 日期
    ``event_date``, 类型 ``kind``) or a key place (``"重点场所"`` with
    ``place_code``); the object's name and village are taken from it.
    Another gathering (``"其他聚集"``) names its ``target`` and village.
    """
    raw = dict(raw)
    with transaction(db, SUBJECT, "places", user=user) as tx:
        day = today or tx.today()
        if not raw.get("time"):
            raw["time"] = now_on(day)
        kind = raw.get("target_type")
        if kind == "红白事":
            event = raw.get("event_date")
            row = tx.row("gatherings", host=raw.get("host"), date=event, kind=raw.get("kind")) if event else None
            if row is None:
                raise ActionError.about("gathering", "红白事", "请选择已报备的红白事")
            raw.update(target=gathering_label(row), village=row["village"], place_code=None)
        elif kind == "重点场所":
            code = (raw.get("place_code") or "").strip()
            place = tx.row("places", code=code) if code else None
            if place is None:
                raise ActionError.about("place_code", "场所", f"没有场所码编号为 {code} 的场所" if code else "请选择场所",
                                        code)
            raw.update(target=place["name"], village=place["village"], host=None, event_date=None, kind=None)
        else:
            raw.update(host=None, event_date=None, kind=None, place_code=None)
        record = tx.clean("enforcements", raw, villages=tx.villages(), today=day)
        if tx.exists("enforcements", record):
            raise ActionError(f"{record['unit']} 在 {record['time']:%Y-%m-%d %H:%M} 对 {record['target']} 的处置已登记")
        tx.upsert("enforcements", record)
    return f"已登记联合执法：{record['unit']} 对 {record['target']}（{record['village']}）{record['action']}"
