"""Writing through the dashboards' forms: the rectification loop, place
inspections and supplies.

Each function validates like an import (:func:`fangkong_lib.ingest.validate.validate_record`),
checks the domain rules (the loop's state machine, the stock) and writes
every row it touches in ONE transaction, audited with the operator as user.
A refusal raises :class:`RecordError` with a Chinese sentence for the
status line, and nothing is written. Concurrent kernels are serialised per
subject (problems, places, supplies) by a lock row, so two operators cannot
both take the last box of masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

import pandas as pd
import sqlalchemy as sa

from .. import store
from ..domain import problems as loop
from ..domain.places import (
    ACTION_STATUS, CHECKLIST, DEFAULT_RECHECK_DAYS, applicable_items, failed_items, findings_text, inspection_problems,
    suggest_action,
)
from ..domain.supplies import StockError, check_issue, next_voucher_no
from ..ledgers import SUPERVISION_TEAMS, get_ledger
from ..ingest.validate import validate_record


class RecordError(ValueError):
    """A form that cannot be stored; ``str(error)`` is the Chinese sentence."""


# -- Helpers -------------------------------------------------------------------------


def _user(user: str | None) -> str:
    text = (user or "").strip()
    if not text:
        raise RecordError("请先填写操作人（谁录入的）")
    return text


def _clean(ledger_key: str, raw: Mapping, *, villages: Iterable[str] | None, today: date) -> dict:
    """The validated record, or RecordError naming every bad field."""
    record, problems = validate_record(get_ledger(ledger_key), raw, villages=villages,
                                       default_year=today.year, today=today)
    if problems:
        label = get_ledger(ledger_key).label
        raise RecordError(f"{label}：" + "；".join(p.sentence() for p in problems))
    return record


def _lock(conn, subject: str) -> None:
    """Serialise writers of one subject: the first write of the transaction
    takes SQLite's write lock, and PostgreSQL's lock on this row."""
    key = f"lock:{subject}"
    meta = store.meta_table
    stamp = datetime.now().isoformat(timespec="seconds")
    update = meta.update().where(meta.c.key == key).values(value=stamp)
    if conn.execute(update).rowcount:
        return
    if conn.dialect.name == "sqlite":  # the write lock is already ours: nobody can race the insert
        conn.execute(meta.insert().values(key=key, value=stamp))
        return
    # Two first-ever writers may both insert: the loser waits for the winner's
    # commit, fails inside its savepoint, and then locks the row like anyone.
    try:
        with conn.begin_nested():
            conn.execute(meta.insert().values(key=key, value=stamp))
    except sa.exc.IntegrityError:
        conn.execute(update)


def _frame(conn, key: str, *conditions) -> pd.DataFrame:
    """Rows of a ledger read inside the transaction (dates as datetime64)."""
    table = store.TABLES[key]
    result = conn.execute(sa.select(table).where(*conditions).order_by(table.c.id))
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for fld in get_ledger(key).fields:
        if fld.type in ("date", "datetime") and fld.key in frame:
            frame[fld.key] = pd.to_datetime(frame[fld.key])
        elif fld.type == "float" and fld.key in frame:
            frame[fld.key] = pd.to_numeric(frame[fld.key]).astype(float)
    return frame


def _exists(conn, key: str, record: Mapping) -> bool:
    table = store.TABLES[key]
    cond = [table.c[k] == record[k] for k in get_ledger(key).natural_key]
    return conn.execute(sa.select(table.c.id).where(*cond)).first() is not None


def _event_time(day: date, after: datetime | None) -> datetime:
    """Now on ``day`` (the form's date), strictly after the problem's last event."""
    when = datetime.combine(day, datetime.now().time()).replace(microsecond=0)
    if after is not None and not pd.isna(after) and when <= after:
        when = pd.Timestamp(after).to_pydatetime() + timedelta(seconds=1)
    return when


def _as_date(value) -> date | None:
    if value is None or value == "" or (not isinstance(value, (date, str)) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


# -- Supervision and the rectification loop ----------------------------------------------


def record_supervision(engine, visit: Mapping, problems: Iterable[Mapping] = (), *, user: str,
                       villages: Iterable[str] | None = None, today: date) -> list[str]:
    """Record a supervision visit (督查记录) and open a problem for each of
    ``problems`` (stage 发现, history 发现); returns the new problem numbers.

    ``visit`` holds the supervisions ledger's fields (date, team, method,
    target, target_type, village…); each problem its own fields (category,
    description, and optionally unit, person, deadline…), the visit's
    date, team, target and village filled in. A visit already recorded
    (same date, team, target) gets its problem count raised.
    """
    user = _user(user)
    problems = [dict(p) for p in problems]
    villages = list(villages) if villages is not None else None
    record = _clean("supervisions", {**visit, "problems_found": 0}, villages=villages, today=today)
    drafts = [{"date": record["date"], "team": record["team"], "method": record.get("method"),
               "target": record["target"], "target_type": record.get("target_type"),
               "village": record.get("village"), "place_code": record.get("place_code"), **p}
              for p in problems]
    for draft in drafts:
        if not (draft.get("description") or "").strip():
            raise RecordError("问题描述不能为空")
    with engine.begin() as conn:
        _lock(conn, "problems")
        table = store.TABLES["supervisions"]
        cond = [table.c[k] == record[k] for k in ("date", "team", "target")]
        existing = conn.execute(sa.select(table.c.problems_found).where(*cond)).first()
        if existing is not None:
            record["problems_found"] = int(existing[0] or 0)
        record["problems_found"] += len(drafts)
        store.upsert_in(conn, "supervisions", record, user=user)
        return _open_problems(conn, drafts, user=user, villages=villages, today=today)


def open_problem(engine, raw: Mapping, *, user: str, villages: Iterable[str] | None = None,
                 today: date) -> str:
    """Open one problem (发现). A supervision team's problem also counts as
    one visit of that team (督查记录)."""
    raw = dict(raw)
    if raw.get("team") in SUPERVISION_TEAMS:
        visit = {k: raw.get(k) for k in ("date", "team", "method", "target", "target_type", "village", "place_code")}
        problem = {k: v for k, v in raw.items() if k not in visit}
        return record_supervision(engine, visit, [problem], user=user, villages=villages, today=today)[0]
    user = _user(user)
    with engine.begin() as conn:
        _lock(conn, "problems")
        return _open_problems(conn, [raw], user=user, villages=villages, today=today)[0]


def _open_problems(conn, drafts: list[dict], *, user: str, villages, today: date) -> list[str]:
    numbers = []
    table = store.TABLES["problems"]
    existing = [row[0] for row in conn.execute(sa.select(table.c.problem_no))]
    for draft in drafts:
        record = _clean("problems", {"stage": loop.FOUND, "accountability": "无",
                                     **{k: v for k, v in draft.items() if k != "problem_no"},
                                     "problem_no": "-"}, villages=villages, today=today)
        if record.get("stage") != loop.FOUND:
            raise RecordError("新问题的阶段只能是「发现」")
        record["problem_no"] = loop.next_problem_no(existing + numbers, record["date"].year)
        store.upsert_in(conn, "problems", record, user=user)
        event = _clean("problem_events", {
            "problem_no": record["problem_no"], "step": loop.FOUND, "time": _event_time(record["date"], None),
            "who": draft.get("who") or record.get("team") or user, "note": record.get("description"),
        }, villages=None, today=today)
        store.upsert_in(conn, "problem_events", event, user=user)
        numbers.append(record["problem_no"])
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


def apply_steps(engine, problem_no: str, steps: Iterable[Step], *, user: str, day: date) -> str:
    """Apply one or more steps to a problem in one transaction; return its
    new stage. Each step is checked against the loop
    (:func:`fangkong_lib.domain.problems.check_step`); the first refusal
    raises RecordError and nothing is written."""
    user = _user(user)
    steps = list(steps)
    with engine.begin() as conn:
        _lock(conn, "problems")
        table, events = store.TABLES["problems"], store.TABLES["problem_events"]
        row = conn.execute(sa.select(table).where(table.c.problem_no == problem_no)).mappings().first()
        if row is None:
            raise RecordError(f"没有编号为 {problem_no} 的问题")
        problem = {k: row[k] for k in get_ledger("problems").columns}
        history = _frame(conn, "problem_events", events.c.problem_no == problem_no)
        for step in steps:
            values = {"who": step.who or user, "unit": step.unit or problem.get("unit"),
                      "person": step.person or problem.get("person"), "deadline": step.deadline,
                      "note": step.note, "evidence": step.evidence}
            if step.step == loop.ASSIGNED:
                values["unit"], values["person"] = step.unit, step.person
            try:
                new = loop.check_step(problem, step.step, values, history)
            except loop.TransitionError as exc:
                raise RecordError(f"{problem_no}：{exc}") from None
            last = history["time"].max() if len(history) else None
            event = _clean("problem_events", {
                "problem_no": problem_no, "step": step.step, "time": _event_time(day, last),
                "who": values["who"], "note": step.note, "evidence": step.evidence,
                **({"unit": step.unit, "person": step.person, "deadline": step.deadline}
                   if step.step == loop.ASSIGNED else {}),
            }, villages=None, today=day)
            store.upsert_in(conn, "problem_events", event, user=user)
            history = pd.concat([history, pd.DataFrame([event]).assign(time=pd.Timestamp(event["time"]))],
                                ignore_index=True)
            problem["stage"] = new
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
        store.upsert_in(conn, "problems", problem, user=user)
        return problem["stage"]


def apply_step(engine, problem_no: str, step: str, *, user: str, day: date, **values) -> str:
    """One step of the loop (see :func:`apply_steps`)."""
    return apply_steps(engine, problem_no, [Step(step, **values)], user=user, day=day)


def recheck(engine, problem_no: str, passed: bool, *, user: str, day: date, who: str = "",
            note: str = "", evidence: str = "") -> str:
    """Record a re-inspection (复查). Passed: 整改中 → 复查. Failed: the
    re-inspection and its failure (复查 → 复查未通过), back to 整改中 — from
    复查 only the failure is written."""
    with engine.connect() as conn:
        table = store.TABLES["problems"]
        stage = conn.execute(sa.select(table.c.stage).where(table.c.problem_no == problem_no)).scalar()
    note = note.strip()
    if passed:
        steps = [Step(loop.RECHECKED, who=who, note=note or "复查通过", evidence=evidence)]
    elif stage == loop.RECHECKED:
        steps = [Step(loop.FAILED, who=who, note=note, evidence=evidence)]
    else:
        steps = [Step(loop.RECHECKED, who=who, note=f"复查：{note}" if note else "", evidence=evidence),
                 Step(loop.FAILED, who=who, note=note, evidence=evidence)]
    return apply_steps(engine, problem_no, steps, user=user, day=day)


def set_accountability(engine, problem_no: str, outcome: str, *, user: str) -> str:
    """Record the accountability outcome (问责情况: 约谈/通报/诫勉, or 无) on
    a problem, audited."""
    user = _user(user)
    if outcome not in ("无", *loop.ACCOUNTABILITY):
        raise RecordError(f"问责情况「{outcome}」应为 约谈、通报、诫勉 或 无")
    with engine.begin() as conn:
        _lock(conn, "problems")
        table = store.TABLES["problems"]
        if conn.execute(sa.select(table.c.id).where(table.c.problem_no == problem_no)).first() is None:
            raise RecordError(f"没有编号为 {problem_no} 的问题")
        return store.upsert_in(conn, "problems", {"problem_no": problem_no, "accountability": outcome}, user=user)


# -- Key places ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionResult:
    place_code: str
    date: date
    action: str
    status: str
    failed: list[str] = field(default_factory=list)
    problem_nos: list[str] = field(default_factory=list)


def record_inspection(engine, raw: Mapping, *, user: str, villages: Iterable[str] | None = None,
                      today: date) -> InspectionResult:
    """Record an inspection of a key place (场所检查) in one transaction:
    the inspection row, the place's new status and 场所码张贴, the result of
    the re-inspection the place was waiting for, and one problem (发现) per
    failed checklist item, linked by place code and date.

    ``raw`` holds the inspections ledger's fields; ``action`` defaults to
    :func:`fangkong_lib.domain.places.suggest_action` of the failed items,
    a 限期整改 without deadline gets the usual 3 days.
    """
    user = _user(user)
    raw = dict(raw)
    code = (raw.get("place_code") or "").strip()
    if not code:
        raise RecordError("请选择要检查的场所")
    with engine.begin() as conn:
        _lock(conn, "places")
        places = store.TABLES["places"]
        place = conn.execute(sa.select(places).where(places.c.code == code)).mappings().first()
        if place is None:
            raise RecordError(f"没有场所码编号为 {code} 的场所")
        place = dict(place)
        for key in CHECKLIST:
            if key not in applicable_items(place["category"]):
                raw[key] = None
        raw.update(place_name=place["name"], category=place["category"], village=place["village"])
        record = _clean("inspections", raw, villages=villages, today=today)
        missing = [CHECKLIST[k] for k in applicable_items(place["category"]) if record.get(k) is None]
        if missing:
            raise RecordError(f"检查项未填写：{'、'.join(missing)}（每项选 是 或 否）")
        failed = failed_items(record, place["category"])
        record["action"] = record.get("action") or suggest_action(failed)
        if not record.get("findings"):
            record["findings"] = findings_text(failed)
        if failed and record["action"] == "无":
            raise RecordError(f"有未落实的检查项（{'、'.join(CHECKLIST[k] for k in failed)}），处理不能为「无」")
        if record["action"] in ("限期整改", "停业整改") and record.get("deadline") is None:
            record["deadline"] = record["date"] + timedelta(days=DEFAULT_RECHECK_DAYS)
        if record.get("deadline") is not None and record["deadline"] < record["date"]:
            raise RecordError("整改期限早于检查日期")
        if _exists(conn, "inspections", record):
            raise RecordError(f"{place['name']} 在 {record['date'].isoformat()} 已有检查记录")
        # The re-inspection this place was waiting for, if any.
        inspections = store.TABLES["inspections"]
        previous = _frame(conn, "inspections", inspections.c.place_code == code,
                          inspections.c.date < record["date"])
        if len(previous):
            last = previous.sort_values("date").iloc[-1]
            if last["action"] in ("限期整改", "停业整改") and not (last["recheck_result"] or "").strip():
                result = "复查合格" if not failed else "复查不合格"
                store.upsert_in(conn, "inspections", {"date": last["date"].date(), "place_code": code,
                                                      "recheck_result": f"{record['date'].isoformat()} {result}"},
                                user=user)
        store.upsert_in(conn, "inspections", record, user=user)
        status = ACTION_STATUS[record["action"]]
        store.upsert_in(conn, "places", {"code": code, "status": status, "code_posted": record["code_posted"]},
                        user=user)
        drafts = inspection_problems(place, record, failed)
        for d in drafts:
            d["who"] = record.get("inspector") or user
        numbers = _open_problems(conn, drafts, user=user, villages=villages, today=today) if drafts else []
    return InspectionResult(code, record["date"], record["action"], status,
                            [CHECKLIST[k] for k in failed], numbers)


# -- Supplies -----------------------------------------------------------------------------


def receive_supplies(engine, raw: Mapping, *, user: str, today: date) -> str:
    """Record a receipt (入库) of donated supplies; returns its voucher number
    (凭证编号, ``JZ2022-…`` when left blank)."""
    user = _user(user)
    raw = dict(raw)
    with engine.begin() as conn:
        _lock(conn, "supplies")
        table = store.TABLES["donations"]
        if not (raw.get("voucher_no") or "").strip():
            day = _as_date(raw.get("date")) or today
            existing = [r[0] for r in conn.execute(sa.select(table.c.voucher_no))]
            raw["voucher_no"] = next_voucher_no(existing, f"JZ{day.year}-")
        record = _clean("donations", raw, villages=None, today=today)
        if record["quantity"] <= 0:
            raise RecordError("数量应为正数")
        if record.get("value") is not None and record["value"] < 0:
            raise RecordError("估值不能为负数")
        if not record.get("location"):
            raise RecordError("请填写存放位置")
        if _exists(conn, "donations", record):
            raise RecordError(f"凭证编号 {record['voucher_no']} 已登记过")
        store.upsert_in(conn, "donations", record, user=user)
        return record["voucher_no"]


def issue_supplies(engine, raw: Mapping, *, user: str, villages: Iterable[str] | None = None,
                   today: date) -> str:
    """Record an issue (出库) of supplies after checking the stock; returns
    its voucher number (出库单号, ``CK2022-…`` when left blank). An issue
    larger than the stock at that location, on that date or any later one,
    is refused with the stock in the message, and nothing is written."""
    user = _user(user)
    raw = dict(raw)
    with engine.begin() as conn:
        _lock(conn, "supplies")
        dist = store.TABLES["distributions"]
        if not (raw.get("voucher_no") or "").strip():
            day = _as_date(raw.get("date")) or today
            existing = [r[0] for r in conn.execute(sa.select(dist.c.voucher_no))]
            raw["voucher_no"] = next_voucher_no(existing, f"CK{day.year}-")
        record = _clean("distributions", raw, villages=villages, today=today)
        if not record.get("location"):
            raise RecordError("请选择出库仓库")
        donations = _frame(conn, "donations", store.TABLES["donations"].c.item == record["item"])
        issued = _frame(conn, "distributions", dist.c.item == record["item"])
        try:
            check_issue(donations, issued, item=record["item"], location=record["location"],
                        quantity=record["quantity"], day=record["date"])
        except StockError as exc:
            raise RecordError(str(exc)) from None
        if not record.get("unit") and len(donations):
            record["unit"] = donations["unit"].dropna().iloc[0] if donations["unit"].notna().any() else None
        if _exists(conn, "distributions", record):
            raise RecordError(f"出库单号 {record['voucher_no']} 已登记过")
        store.upsert_in(conn, "distributions", record, user=user)
        return record["voucher_no"]
