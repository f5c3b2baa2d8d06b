"""Inspections of key places (重点场所检查): the inspection, the place's
status, the re-inspection it answers and the problems it opens, in one
transaction under the ``places`` and ``problems`` locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Mapping

from .. import store
from ..domain.places import (
    ACTION_STATUS, CHECKLIST, DEFAULT_RECHECK_DAYS, applicable_items, failed_items, findings_text, inspection_problems,
    suggest_action,
)
from .base import ActionError, Tx, transaction
from .problems import open_problems_in


@dataclass(frozen=True)
class InspectionResult:
    """What an inspection recorded: the action taken, the place's new
    status, the failed items and the problems opened for them."""

    place_code: str
    date: date
    action: str
    status: str
    failed: list[str] = field(default_factory=list)
    problem_nos: list[str] = field(default_factory=list)
    message: str = ""

    def __str__(self) -> str:
        return self.message


def _checked(tx: Tx, raw: dict, place: dict, villages: list[str], today: date) -> tuple[dict, list[str]]:
    """The validated inspection of ``place`` and its failed items."""
    for key in CHECKLIST:
        if key not in applicable_items(place["category"]):
            raw[key] = None
    raw.update(place_name=place["name"], category=place["category"], village=place["village"])
    record = tx.clean("inspections", raw, villages=villages, today=today)
    missing = [CHECKLIST[k] for k in applicable_items(place["category"]) if record.get(k) is None]
    if missing:
        raise ActionError(f"检查项未填写：{'、'.join(missing)}（每项选 是 或 否）")
    failed = failed_items(record, place["category"])
    record["action"] = record.get("action") or suggest_action(failed)
    if not record.get("findings"):
        record["findings"] = findings_text(failed)
    if failed and record["action"] == "无":
        raise ActionError.about("action", "处理",
                                f"有未落实的检查项（{'、'.join(CHECKLIST[k] for k in failed)}），处理不能为「无」", "无")
    if record["action"] in ("限期整改", "停业整改") and record.get("deadline") is None:
        record["deadline"] = record["date"] + timedelta(days=DEFAULT_RECHECK_DAYS)
    if record.get("deadline") is not None and record["deadline"] < record["date"]:
        raise ActionError.about("deadline", "整改期限", "整改期限早于检查日期", record["deadline"].isoformat())
    if tx.exists("inspections", record):
        raise ActionError(f"{place['name']} 在 {record['date'].isoformat()} 已有检查记录")
    return record, failed


def _answer_recheck(tx: Tx, code: str, record: dict, failed: list[str]) -> None:
    """The re-inspection this place was waiting for, if any, gets its result."""
    inspections = store.TABLES["inspections"]
    previous = tx.frame("inspections", inspections.c.place_code == code, inspections.c.date < record["date"])
    if not len(previous):
        return
    last = previous.sort_values("date").iloc[-1]
    if last["action"] in ("限期整改", "停业整改") and not (last["recheck_result"] or "").strip():
        result = "复查合格" if not failed else "复查不合格"
        tx.upsert("inspections", {"date": last["date"].date(), "place_code": code,
                                  "recheck_result": f"{record['date'].isoformat()} {result}"})


def record_inspection(db, raw: Mapping, *, user: str, villages: Iterable[str] | None = None,
                      today: date | None = None) -> InspectionResult:
    """Record an inspection of a key place (场所检查) in one transaction:
    the inspection row, the place's new status and 场所码张贴, the result of
    the re-inspection the place was waiting for, and one problem (发现) per
    failed checklist item, linked by place code and date.

    ``raw`` holds the inspections ledger's fields; ``action`` defaults to
    :func:`fangkong_lib.domain.places.suggest_action` of the failed items,
    a 限期整改 without deadline gets the usual 3 days. ``villages`` narrows
    the villages allowed (the user's scope); ``today`` defaults to the
    data's today.

    Raises
    ------
    ActionError
        Unknown place, a checklist item left blank, an action that does not
        fit the findings, or an inspection already recorded that day.
    """
    raw = dict(raw)
    code = (raw.get("place_code") or "").strip()
    if not code:
        raise ActionError.about("place_code", "场所", "请选择要检查的场所")
    with transaction(db, "places", "problems", user=user) as tx:
        today = today or tx.today()
        names = tx.villages(villages)
        place = tx.row("places", code=code)
        if place is None:
            raise ActionError.about("place_code", "场所", f"没有场所码编号为 {code} 的场所", code)
        record, failed = _checked(tx, raw, place, names, today)
        _answer_recheck(tx, code, record, failed)
        tx.upsert("inspections", record)
        status = ACTION_STATUS[record["action"]]
        tx.upsert("places", {"code": code, "status": status, "code_posted": record["code_posted"]})
        drafts = inspection_problems(place, record, failed)
        for d in drafts:
            d["who"] = record.get("inspector") or tx.user
        numbers = open_problems_in(tx, drafts, villages=names, today=today) if drafts else []
    labels = [CHECKLIST[k] for k in failed]
    message = f"已记录 {place['name']} {record['date'].isoformat()} 的检查：{record['action']}（{status}）"
    if numbers:
        message += f"，未落实 {'、'.join(labels)}，已登记问题 {'、'.join(numbers)}"
    return InspectionResult(code, record["date"], record["action"], status, labels, numbers, message)
