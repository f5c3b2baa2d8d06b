"""The returnee workflow (gates 1-3): what staff record on the returnee page.

Each ``record_*`` action validates like an import, checks that the step
makes sense for the person (read under the ``returnees`` lock, in the
transaction that writes), writes with audit and keeps the person's control
plan in step (:func:`fangkong_lib.actions.plans.refresh_in`), all in one
transaction. It returns the message to show, or raises
:class:`~fangkong_lib.actions.base.ActionError` and writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

import pandas as pd

from .. import store
from ..domain.alerts import SLOTS
from ..domain.overview import test_schedule
from ..ingest.normalize import clean_text
from ..ingest.validate import Problem, coerce_value, validate_record
from ..ledgers import Field, get_ledger
from ..policy import Regime, fever_threshold, load_regimes
from .base import ActionError, Tx, as_date, transaction
from .plans import PlanRefresh, refresh_in

#: Plausible body temperatures; outside is a typing error, not a reading.
TEMPERATURE_RANGE = (34.0, 43.0)


def _blank(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value) or \
        (isinstance(value, str) and not clean_text(value))


def _present(raw: Mapping) -> dict:
    """The non-blank values of a form (blank optional fields leave what is stored)."""
    return {k: v for k, v in raw.items() if not _blank(v)}


def _keep(row: Mapping, ledger_key: str) -> dict:
    """The required fields of a stored row, for an update through validation."""
    return {f.key: row.get(f.key) for f in get_ledger(ledger_key).fields if f.required and f.key in row}


def _date_of(raw: Mapping, key: str, label: str, today: date) -> date:
    """A required date of the form, not after today."""
    value, reason = coerce_value(Field(key, label, "date"), raw.get(key), default_year=today.year)
    if reason:
        raise ActionError.refused(key, label, reason, raw.get(key))
    if value is None:
        raise ActionError.refused(key, label, "必填项为空")
    if value > today:
        raise ActionError.refused(key, label, f"不能晚于今天（{today.isoformat()}）", value.isoformat())
    return value


def _save(tx: Tx, ledger_key: str, raw: Mapping, today: date, *, where: str = "") -> str:
    """Validate ``raw`` like an imported row and write it, audited.
    ``where`` names another ledger than the form's in the problems."""
    record, problems = validate_record(get_ledger(ledger_key), raw, villages=tx.villages(),
                                       default_year=today.year, today=today)
    if problems:
        if where:
            problems = [Problem(p.field, f"{where}·{p.label}", p.value, p.reason) for p in problems]
        raise ActionError.of(problems)
    return tx.upsert(ledger_key, record)


def _active_control(tx: Tx, id_number: str, on: date, label: str) -> dict:
    """The person's control row, when ``on`` falls within the control."""
    control = tx.row("controls", id_number=id_number)
    if control is None or control.get("measure") in (None, "无"):
        raise ActionError.refused("id_number", "人员", "该人员没有管控记录，无需录入")
    start, released = as_date(control["start_date"]), as_date(control.get("released_date"))
    if released is not None and released <= on:
        raise ActionError.refused("date", label, f"该人员已于 {released.isoformat()} 解除管控", on.isoformat())
    if on < start:
        raise ActionError.refused("date", label, f"早于管控开始日期（{start.isoformat()}）", on.isoformat())
    # After 应解除日期 and before the release, readings and late tests still count.
    return control


def record_test(db, id_number: str, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """A nucleic-acid sample (核酸) of a person under control: ``raw`` has
    ``sample_date``, ``result`` (阴性/阳性/待出), optional ``method``,
    ``sampler`` and ``note``. Returns the message to show."""
    with transaction(db, "returnees", user=user) as tx:
        today = today or tx.today()
        on = _date_of(raw, "sample_date", "采样日期", today)
        control = _active_control(tx, id_number, on, "采样日期")
        record = {"id_number": id_number, "name": control["name"], "village": control["village"],
                  "sample_date": on, **_present({k: raw.get(k) for k in ("method", "result", "sampler", "note")})}
        _save(tx, "tests", record, today)
    result = clean_text(raw.get("result")) or "结果待出"
    alarm = "，阳性！请立即按阳性处置流程上报" if result == "阳性" else ""
    return f"已记录 {control['name']} {on.isoformat()} 核酸采样（{result}）{alarm}"


def _reading(raw: Mapping) -> tuple[str, float]:
    """The slot's column and the temperature of a reading form."""
    slot = clean_text(raw.get("slot"))
    if slot not in SLOTS:
        raise ActionError.refused("slot", "时段", f"应为 {'、'.join(SLOTS)} 之一", slot)
    value, reason = coerce_value(get_ledger("daily_checks")[SLOTS[slot]], raw.get("temperature"))
    if reason or value is None:
        raise ActionError.refused("temperature", "体温", reason or "必填项为空", raw.get("temperature"))
    lo, hi = TEMPERATURE_RANGE
    if not lo <= value <= hi:
        raise ActionError.refused("temperature", "体温", f"应在 {lo:.1f} 至 {hi:.1f} ℃ 之间，请核对",
                                  raw.get("temperature"))
    return SLOTS[slot], value


def record_temperature(db, id_number: str, raw: Mapping, *, user: str,
                       regimes: tuple[Regime, ...] | None = None, today: date | None = None) -> str:
    """A temperature reading (体温): ``raw`` has ``date``, ``slot`` (上午/下午),
    ``temperature`` and optional ``symptoms``. The other slot of the day is
    left as it is. Returns the message to show (a fever says so)."""
    with transaction(db, "returnees", user=user) as tx:
        today = today or tx.today()
        on = _date_of(raw, "date", "日期", today)
        column, value = _reading(raw)
        control = _active_control(tx, id_number, on, "日期")
        by_key = {r.key: r for r in (regimes if regimes is not None else load_regimes())}
        regime = by_key.get(control.get("regime"))
        threshold = regime.fever_threshold if regime else fever_threshold(on)
        symptoms = clean_text(raw.get("symptoms")) or ("发热" if value >= threshold else "")
        record = {"date": on, "id_number": id_number, "name": control["name"], "village": control["village"],
                  "day_no": (on - as_date(control["start_date"])).days + 1, column: value,
                  **({"symptoms": symptoms} if symptoms else {})}
        _save(tx, "daily_checks", record, today)
    slot = next(s for s, c in SLOTS.items() if c == column)
    fever = f"，≥{threshold:.1f}℃ 发热，请立即上报并安排核酸" if value >= threshold else ""
    return f"已记录 {control['name']} {on.isoformat()} {slot}体温 {value:.1f}℃{fever}"


def record_release(db, id_number: str, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Release (解除管控) on ``raw["released_date"]``: not before 应解除日期,
    with every planned test sampled and no positive result."""
    with transaction(db, "returnees", user=user) as tx:
        today = today or tx.today()
        on = _date_of(raw, "released_date", "解除日期", today)
        control = _active_control(tx, id_number, on, "解除日期")
        end = as_date(control["end_date"])
        if on < end:
            raise ActionError.refused("released_date", "解除日期",
                                      f"未到应解除日期（{end.isoformat()}），不能提前解除", on.isoformat())
        tests = tx.frame("tests", store.TABLES["tests"].c.id_number == id_number)
        missing = test_schedule(pd.DataFrame([control]), tests, on)
        missing = missing[missing["state"] != "done"]
        if len(missing):
            days = "、".join(d.strftime("%m-%d") for d in missing["planned"])
            raise ActionError.refused("released_date", "解除日期", f"计划核酸未完成（{days}），完成后才能解除",
                                      on.isoformat())
        if (tests["result"] == "阳性").any():
            raise ActionError.refused("released_date", "解除日期", "有阳性核酸结果，不能解除，请按阳性处置流程上报")
        _save(tx, "controls", {**_keep(control, "controls"), "released_date": on, "status": "已解除"}, today)
    return f"已解除 {control['name']} 的管控（{on.isoformat()}）"


def _link_away(tx: Tx, id_number: str, values: Mapping, today: date) -> bool:
    """Update the away ledger's row of a returnee (gate 1 → 2), if any."""
    row = tx.row("away", id_number=id_number)
    if row is None:
        return False
    _save(tx, "away", {**_keep(row, "away"), **values}, today, where="在外人员台账")
    return True


def _plan_message(tx: Tx, id_number: str, plans: PlanRefresh) -> str:
    if plans.errors:
        return "；无法计算管控方案：" + plans.errors[0][1]
    control = tx.row("controls", id_number=id_number)
    if control is None or control.get("measure") in (None, "无") or control.get("status") == "已解除":
        return "；按现行政策无需管控"
    n = len([t for t in str(control.get("test_dates") or "").split(";") if t])
    return (f"；管控措施：{control['measure']}（{as_date(control['start_date']).isoformat()} 至 "
            f"{as_date(control['end_date']).isoformat()}，核酸 {n} 次）")


def _person(tx: Tx, raw: dict, away_id: str, today: date) -> dict:
    """The registration's fields: the away ledger's person when ``away_id``
    is given, the grid's natural village, checked against the grid."""
    if away_id:
        away = tx.row("away", id_number=away_id)
        if away is None:
            raise ActionError.refused("away_id", "在外人员", "在外人员台账中没有此人")
        person = {k: away.get(k) for k in ("name", "sex", "id_number", "phone", "village", "natural_village", "grid")}
        raw = {**raw, **_present(person)}
    raw.setdefault("report_date", today)
    grid = clean_text(raw.get("grid"))
    if grid:
        cell = tx.row("grids", code=grid)
        if cell is None:
            raise ActionError.refused("grid", "网格", "不是本乡的网格编号", grid)
        if raw.get("village") and cell["village"] != raw.get("village"):
            raise ActionError.refused("grid", "网格", f"属于{cell['village']}，与所填的村不符", grid)
        raw.setdefault("natural_village", cell["natural_village"])
    return raw


def record_preregistration(db, raw: Mapping, *, user: str, away_id: str = "", today: date | None = None) -> str:
    """A pre-registration (返乡报备), new or corrected; returns the message.

    With ``away_id`` the person is taken from the away ledger (gate 1) and
    that row is linked: 有返乡意向, 预计返乡时间 (and 已返乡 when an actual
    arrival is given). Without it ``raw`` carries name, ID, phone, village,
    grid. ``raw`` also has risk_category, expected_arrival and optionally
    actual_arrival, left_risk_date, origin, transport, report_channel,
    test48_result, health_code, note. 报备日期 defaults to today, 录入人 is
    the operator. With an actual arrival the plan is made at once, in the
    same transaction.
    """
    with transaction(db, "returnees", user=user) as tx:
        message = preregister_in(tx, raw, away_id=away_id, today=today or tx.today())
    return message


def preregister_in(tx: Tx, raw: Mapping, *, away_id: str = "", today: date) -> str:
    """:func:`record_preregistration` inside the caller's transaction (which
    holds the ``returnees`` lock): a lead closed as 已核实在本地 registers its
    person this way, in its own transaction."""
    raw = {**_person(tx, _present(raw), away_id, today), "entered_by": tx.user}
    record = tx.clean("returnees", raw, villages=tx.villages(), today=today, prefix="")
    report, expected, actual = record.get("report_date"), record.get("expected_arrival"), record.get("actual_arrival")
    if report and report > today:
        raise ActionError.refused("report_date", "报备日期", f"不能晚于今天（{today.isoformat()}）",
                                  report.isoformat())
    if actual and actual > today:
        raise ActionError.refused("actual_arrival", "实际到达时间", "还没有到的人请填预计到达时间",
                                  actual.isoformat())
    idn = record["id_number"]
    action = tx.upsert("returnees", record)
    link = {"intends_return": True, **({"expected_return": expected} if expected else {}),
            **({"returned": True} if actual else {})}
    notes = ["已关联在外人员台账"] if _link_away(tx, idn, link, today) else []
    target = actual or expected
    if report and target and (target - report).days < 3:
        notes.append("注意：未提前 3 天报备")
    verb = {"inserted": "已登记报备", "updated": "已更新报备", "unchanged": "报备信息无变化"}[action]
    message = f"{verb}：{record['name']}" + ("；" + "；".join(notes) if notes else "")
    # Arrived (now or before): the plan follows the registration at once,
    # e.g. after a corrected risk category.
    if as_date(tx.row("returnees", id_number=idn)["actual_arrival"]) is not None:
        message += _plan_message(tx, idn, refresh_in(tx, today, ids=[idn]))
    return message


def record_arrival(db, id_number: str, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """The arrival (到达) of a pre-registered person: ``raw`` has
    ``actual_arrival`` and optionally ``landing_test_time``,
    ``landing_test_result``, ``health_code``. Links the away ledger
    (已返乡) and makes the control plan, in the same transaction."""
    with transaction(db, "returnees", user=user) as tx:
        message = arrive_in(tx, id_number, raw, today=today or tx.today())
    return message


def arrive_in(tx: Tx, id_number: str, raw: Mapping, *, today: date) -> str:
    """:func:`record_arrival` inside the caller's transaction (which holds
    the ``returnees`` lock)."""
    person = tx.row("returnees", id_number=id_number)
    if person is None:
        raise ActionError.refused("id_number", "人员", "没有此人的报备记录，请先登记报备")
    if as_date(person.get("actual_arrival")) is not None:
        raise ActionError.refused("actual_arrival", "实际到达时间",
                                  f"已于 {as_date(person['actual_arrival']).isoformat()} 登记到达")
    on = _date_of(raw, "actual_arrival", "实际到达时间", today)
    fields = _present({k: raw.get(k) for k in ("landing_test_time", "landing_test_result", "health_code")})
    _save(tx, "returnees", {**_keep(person, "returnees"), "actual_arrival": on, **fields}, today)
    _link_away(tx, id_number, {"returned": True}, today)
    plans = refresh_in(tx, today, ids=[id_number])
    return f"已登记 {person['name']} {on.isoformat()} 到达" + _plan_message(tx, id_number, plans)
