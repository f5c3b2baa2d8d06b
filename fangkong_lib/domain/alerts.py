"""Lists a grid worker can act on (待办与预警), for one date.

Pure functions over ledger DataFrames (as loaded by
:func:`fangkong_lib.store.load_ledgers`): nothing is read or written here.
Each returns a new DataFrame with one row per thing to do and the columns
needed to act on it (who, where, how to reach them, what is due since when),
never only a number. Column keys are English; :data:`ALERT_COLUMNS` gives
their Chinese headers.

Times matter for two lists: a temperature slot (上午/下午) only counts as
missing once its cut-off has passed, and a village's daily report (日报告、
零报告) is due by 17:00. Those functions take ``now``, a datetime.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Mapping

import pandas as pd

from ..policy import Regime, fever_threshold, fever_thresholds, load_regimes
from .controls import Data, active_controls, bad_test_date_rows, test_schedule
from .reports import REPORT_DEADLINE, REPORT_LATE, REPORT_MISSING, village_report_status

#: Temperature slots (体温时段) and their daily_checks columns.
SLOTS = {"上午": "temp_am", "下午": "temp_pm"}
#: A slot's reading counts as missing once this time of its day has passed.
SLOT_CUTOFFS = {"上午": time(12, 0), "下午": time(17, 0)}
#: Returnees report to the village at least this many days before arrival.
PRE_REGISTER_DAYS = 3
#: "Arriving soon" means from today to this many days ahead.
ARRIVAL_WINDOW_DAYS = 3
#: Arrivals of the last this-many days are checked for late pre-registration
#: and for a missing arrival test.
LATE_REGISTRATION_WINDOW_DAYS = 14

PERSON = ["id_number", "name", "village", "grid", "phone"]

#: The lists, in the order a grid worker goes through them, with their names.
ALERT_LABELS = {
    "fevers": "体温异常（发热）",
    "tests_overdue": "逾期未检核酸",
    "tests_due": "今日待检核酸",
    "arrival_tests_missing": "落地核酸未检",
    "temperatures_missing": "体温未报",
    "releases_due": "今日应解除",
    "releases_overdue": "逾期未解除",
    "arrivals_expected": f"{ARRIVAL_WINDOW_DAYS}日内预计返乡",
    "no_shows": "报备后逾期未到",
    "late_registrations": f"未提前{PRE_REGISTER_DAYS}天报备",
    "reports_missing": "村日报告未按时上报",
}
#: Lists whose people are late with something (the page's 只看逾期 filter).
OVERDUE_ALERTS = ("tests_overdue", "arrival_tests_missing", "temperatures_missing", "releases_overdue", "no_shows")

#: Chinese headers of the columns the lists use (one place).
ALERT_COLUMNS = {
    "id_number": "身份证号",
    "name": "姓名",
    "village": "村",
    "grid": "网格",
    "phone": "手机号",
    "measure": "当前措施",
    "planned": "计划采样日",
    "days_late": "逾期天数",
    "slot": "时段",
    "due_by": "截止时间",
    "temperature": "体温(℃)",
    "threshold": "发热标准(℃)",
    "symptoms": "症状",
    "start_date": "开始日期",
    "end_date": "应解除日期",
    "tests_pending": "未完成核酸",
    "expected": "预计到达",
    "source": "来源",
    "origin": "出发地",
    "category": "风险类别",
    "report_date": "报备日期",
    "actual_arrival": "实际到达",
    "landing_test_time": "落地核酸时间",
    "lead_days": "提前天数",
    "secretary": "党支部书记",
    "secretary_phone": "书记电话",
    "state": "情况",
    "reported_at": "上报时间",
}


def _ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _finish(frame: pd.DataFrame, columns: list[str], sort: list[str] | None = None) -> pd.DataFrame:
    if frame.empty:
        return _empty(columns)
    out = frame[columns]
    keys = [c for c in (sort or ["village", "grid", "name"]) if c in out.columns]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _not_released(controls: pd.DataFrame, day: date) -> pd.Series:
    ts = _ts(day)
    return controls["released_date"].isna() | (controls["released_date"] > ts)


def _regime_values(regimes: tuple[Regime, ...] | None, attr: str) -> dict:
    regimes = regimes if regimes is not None else load_regimes()
    return {r.key: getattr(r, attr) for r in regimes}


# -- Tests (核酸) ---------------------------------------------------------------


def _active(controls: pd.DataFrame, day: date, active: pd.DataFrame | None) -> pd.DataFrame:
    """The controls in force on ``day`` (see :func:`active_controls`); the
    functions below take them ready-made as ``active`` to share the work."""
    return active if active is not None else active_controls(controls, day)


def tests_due(controls: pd.DataFrame, tests: pd.DataFrame, day: date, *,
              active: pd.DataFrame | None = None) -> pd.DataFrame:
    """People under control on ``day`` with a test planned that day and no
    sample yet (今日待检)."""
    cols = PERSON + ["measure", "planned"]
    active = _active(controls, day, active)
    schedule = test_schedule(active, tests, day)
    due = schedule[schedule["state"] == "due"]
    if due.empty:
        return _empty(cols)
    extra = active[["id_number", "phone", "current_measure"]].rename(columns={"current_measure": "measure"})
    return _finish(due.merge(extra, on="id_number", how="left"), cols)


def tests_overdue(controls: pd.DataFrame, tests: pd.DataFrame, day: date, *,
                  active: pd.DataFrame | None = None) -> pd.DataFrame:
    """Planned tests before ``day`` with no sample in their window, of people
    still under control (逾期未检); one row per missed test."""
    cols = PERSON + ["measure", "planned", "days_late"]
    active = _active(controls, day, active)
    schedule = test_schedule(active, tests, day)
    late = schedule[schedule["state"] == "overdue"]
    if late.empty:
        return _empty(cols)
    extra = active[["id_number", "phone", "current_measure"]].rename(columns={"current_measure": "measure"})
    late = late.merge(extra, on="id_number", how="left")
    late["days_late"] = (_ts(day) - late["planned"]).dt.days.astype(int)
    return _finish(late, cols, ["village", "grid", "name", "planned"])


# -- Temperatures (体温) ----------------------------------------------------------


def _present(active: pd.DataFrame, returnees: pd.DataFrame | None, day: date) -> pd.DataFrame:
    """Active controls of people already here on ``day``: with 填平补齐 a
    control can start before the person arrives."""
    if returnees is None or returnees.empty or active.empty:
        return active
    arrival = returnees.drop_duplicates("id_number").set_index("id_number")["actual_arrival"]
    arrived = active["id_number"].map(arrival)
    here = arrived.isna() | (arrived <= _ts(day))
    return active[here.to_numpy(dtype=bool)]


def missing_temperatures(
    controls: pd.DataFrame,
    daily_checks: pd.DataFrame,
    day: date,
    now: datetime,
    *,
    returnees: pd.DataFrame | None = None,
    regimes: tuple[Regime, ...] | None = None,
    cutoffs: Mapping[str, time] = SLOT_CUTOFFS,
    active: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Temperature readings not recorded for ``day``, one row per person and
    slot (上午/下午), for slots whose cut-off has passed at ``now``.

    Everyone under control is checked the number of times a day their regime
    says (``temperature_checks_per_day``: 2 means both slots, 1 the morning
    only). People not yet arrived (填平补齐) are not expected to report.
    """
    cols = PERSON + ["measure", "slot", "due_by"]
    active = _present(_active(controls, day, active), returnees, day)
    if active.empty:
        return _empty(cols)
    per_day = active["regime"].map(_regime_values(regimes, "temperature_checks_per_day")).fillna(2)
    readings = daily_checks[daily_checks["date"] == _ts(day)].drop_duplicates("id_number", keep="last")
    readings = readings.set_index("id_number")
    parts = []
    for n, (slot, column) in enumerate(SLOTS.items(), start=1):
        due_by = datetime.combine(day, cutoffs[slot])
        if now < due_by:
            continue
        done = active["id_number"].map(readings[column]).notna()
        needed = per_day.to_numpy() >= n
        missing = active[needed & ~done.to_numpy(dtype=bool)]
        if len(missing):
            parts.append(missing.assign(slot=slot, due_by=pd.Timestamp(due_by)))
    if not parts:
        return _empty(cols)
    out = pd.concat(parts, ignore_index=True).drop(columns="measure").rename(columns={"current_measure": "measure"})
    return _finish(out, cols, ["village", "grid", "name", "due_by"])


def fevers(
    controls: pd.DataFrame,
    daily_checks: pd.DataFrame,
    day: date,
    *,
    regimes: tuple[Regime, ...] | None = None,
    active: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Readings on ``day`` at or above the fever threshold of the person's
    regime (发热; the threshold is regime data, see
    :func:`fangkong_lib.policy.fever_threshold`), one row per reading. A row
    whose regime is unknown gets the threshold of the regime in force on
    ``day``."""
    cols = PERSON + ["measure", "slot", "temperature", "threshold", "symptoms"]
    active = _active(controls, day, active)
    rows = daily_checks[(daily_checks["date"] == _ts(day)) & daily_checks["id_number"].isin(active["id_number"])]
    if rows.empty:
        return _empty(cols)
    person = active.drop_duplicates("id_number").set_index("id_number")
    regimes = regimes if regimes is not None else load_regimes()
    default = fever_threshold(day, regimes=regimes)
    threshold = person["regime"].map(fever_thresholds(regimes)).fillna(default)
    parts = []
    for slot, column in SLOTS.items():
        temps = rows[["id_number", column, "symptoms"]].rename(columns={column: "temperature"})
        limit = temps["id_number"].map(threshold)
        hot = temps[(temps["temperature"] >= limit).fillna(False).to_numpy(dtype=bool)]
        if len(hot):
            parts.append(hot.assign(slot=slot, threshold=hot["id_number"].map(threshold)))
    if not parts:
        return _empty(cols)
    out = pd.concat(parts, ignore_index=True)
    info = person[["name", "village", "grid", "phone", "current_measure"]]
    info = info.rename(columns={"current_measure": "measure"})
    out = out.join(info, on="id_number")
    return _finish(out, cols, ["village", "grid", "name", "slot"])


# -- Releases (解除) ---------------------------------------------------------------


def _pending_tests(rows: pd.DataFrame, tests: pd.DataFrame | None, day: date) -> pd.Series:
    """Planned tests up to ``day`` without a sample, per row (index of rows)."""
    if tests is None or rows.empty:
        return pd.Series(0, index=rows.index, dtype=int)
    schedule = test_schedule(rows, tests, day)
    open_ = schedule[(schedule["state"] != "done") & (schedule["planned"] <= _ts(day))]
    counts = open_.groupby("id_number").size()
    return rows["id_number"].map(counts).fillna(0).astype(int)


def releases_due(controls: pd.DataFrame, day: date, tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """Controls whose last day (应解除日期) is ``day`` and not yet released;
    ``tests_pending`` counts planned tests still without a sample (with
    ``tests`` given), since release waits for the last test."""
    cols = PERSON + ["measure", "start_date", "end_date", "tests_pending"]
    if controls.empty:
        return _empty(cols)
    rows = controls[(controls["end_date"] == _ts(day)) & _not_released(controls, day)
                    & (controls["measure"] != "无")]
    rows = rows.assign(tests_pending=_pending_tests(rows, tests, day))
    return _finish(rows, cols)


def releases_overdue(controls: pd.DataFrame, day: date, tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """Controls that ended before ``day`` but were never released (逾期未解除):
    either the release was not recorded or something holds it up."""
    cols = PERSON + ["measure", "start_date", "end_date", "days_late", "tests_pending"]
    if controls.empty:
        return _empty(cols)
    rows = controls[(controls["end_date"] < _ts(day)) & _not_released(controls, day)
                    & (controls["measure"] != "无")]
    rows = rows.assign(days_late=(_ts(day) - rows["end_date"]).dt.days.astype(int),
                       tests_pending=_pending_tests(rows, tests, day))
    return _finish(rows, cols)


# -- Arrivals (返乡) ----------------------------------------------------------------


def _not_arrived(returnees: pd.DataFrame, day: date) -> pd.Series:
    return returnees["actual_arrival"].isna() | (returnees["actual_arrival"] > _ts(day))


def arrivals_expected(
    returnees: pd.DataFrame,
    away: pd.DataFrame,
    day: date,
    *,
    days: int = ARRIVAL_WINDOW_DAYS,
) -> pd.DataFrame:
    """People expected from ``day`` to ``day + days``: pre-registered
    returnees not yet arrived (来源 已报备), and people away whose expected
    return date falls in the window but who have not pre-registered
    (来源 在外人员: call them to register)."""
    cols = PERSON + ["expected", "source", "origin", "category"]
    lo, hi = _ts(day), _ts(day + timedelta(days=days))
    reg = returnees[_not_arrived(returnees, day) & returnees["expected_arrival"].between(lo, hi)]
    reg = reg.assign(expected=reg["expected_arrival"], source="已报备", category=reg["risk_category"])
    known = set(returnees["id_number"])
    out_ = away[(away["returned"] != True) & away["expected_return"].between(lo, hi)  # noqa: E712
                & ~away["id_number"].isin(known)]
    origin = (out_["province"].fillna("") + out_["city"].fillna("")).str.strip()
    out_ = out_.assign(expected=out_["expected_return"], source="在外人员", origin=origin,
                       category=out_["risk_level"].map(lambda v: f"所在地{v}" if isinstance(v, str) and v else ""))
    frames = [f[cols] for f in (reg, out_) if len(f)]
    if not frames:
        return _empty(cols)
    return _finish(pd.concat(frames, ignore_index=True), cols, ["expected", "village", "grid", "name"])


def late_registrations(
    returnees: pd.DataFrame,
    day: date,
    *,
    lead_days: int = PRE_REGISTER_DAYS,
    window_days: int = LATE_REGISTRATION_WINDOW_DAYS,
) -> pd.DataFrame:
    """People who arrived in the last ``window_days`` days (up to ``day``)
    without pre-registering at least ``lead_days`` days before arrival
    (no 报备日期, or too late). ``lead_days`` in the result is how many days
    ahead they did register (empty: never)."""
    cols = PERSON + ["category", "report_date", "actual_arrival", "lead_days"]
    ts = _ts(day)
    arrived = returnees[(returnees["actual_arrival"] <= ts)
                        & (returnees["actual_arrival"] > ts - timedelta(days=window_days))]
    lead = (arrived["actual_arrival"] - arrived["report_date"]).dt.days
    late = arrived[(lead.isna() | (lead < lead_days)).to_numpy(dtype=bool)]
    late = late.assign(category=late["risk_category"], lead_days=lead[late.index].astype("Int64"))
    return _finish(late, cols, ["actual_arrival", "village", "grid", "name"])


def no_shows(returnees: pd.DataFrame, day: date) -> pd.DataFrame:
    """Pre-registered people whose expected arrival date has passed with no
    arrival recorded (报备后逾期未到): find out where they are."""
    cols = PERSON + ["category", "expected", "days_late"]
    ts = _ts(day)
    rows = returnees[_not_arrived(returnees, day) & (returnees["expected_arrival"] < ts)]
    rows = rows.assign(category=rows["risk_category"], expected=rows["expected_arrival"],
                       days_late=(ts - rows["expected_arrival"]).dt.days.astype(int))
    return _finish(rows, cols, ["expected", "village", "grid", "name"])


def arrival_tests_missing(
    returnees: pd.DataFrame,
    tests: pd.DataFrame,
    day: date,
    now: datetime,
    *,
    window_days: int = LATE_REGISTRATION_WINDOW_DAYS,
) -> pd.DataFrame:
    """People who arrived in the last ``window_days`` days without an arrival
    test (落地核酸, due within 24 h of arrival), once that time has passed.

    Only the arrival date is known, so the 24 h run from the end of the
    arrival day: ``due_by`` is midnight at the end of the next day. A test
    counts when the returnee row has a 落地核酸时间 on or after the arrival day,
    or the tests ledger has a sample taken from the arrival day up to ``day``.
    ``days_late`` counts whole days past ``due_by``, starting at 1.
    """
    cols = PERSON + ["category", "actual_arrival", "due_by", "days_late"]
    ts = _ts(day)
    arrived = returnees[(returnees["actual_arrival"] <= ts)
                        & (returnees["actual_arrival"] > ts - timedelta(days=window_days))]
    if arrived.empty:
        return _empty(cols)
    due_by = arrived["actual_arrival"] + pd.Timedelta(days=2)
    arrived = arrived[(due_by <= pd.Timestamp(now)).to_numpy(dtype=bool)]
    landed = pd.to_datetime(arrived["landing_test_time"]).dt.normalize() >= arrived["actual_arrival"]
    samples = tests.loc[tests["sample_date"] <= ts, ["id_number", "sample_date"]]
    first = arrived[["id_number", "actual_arrival"]].reset_index().merge(samples, on="id_number", how="inner")
    first = first[first["sample_date"] >= first["actual_arrival"]]
    sampled = arrived.index.isin(first["index"])
    missing = arrived[~(landed.fillna(False).to_numpy(dtype=bool) | sampled)]
    if missing.empty:
        return _empty(cols)
    missing = missing.assign(category=missing["risk_category"],
                             due_by=missing["actual_arrival"] + pd.Timedelta(days=2),
                             days_late=(ts - missing["actual_arrival"]).dt.days.astype(int) - 1)
    return _finish(missing, cols, ["actual_arrival", "village", "grid", "name"])


# -- Villages' daily reports (日报告、零报告) ------------------------------------------


def missing_village_reports(
    village_reports: pd.DataFrame,
    villages: pd.DataFrame,
    day: date,
    now: datetime,
    *,
    cutoff: time = REPORT_DEADLINE,
) -> pd.DataFrame:
    """Villages without a report for ``day`` by the cut-off (17:00), once it
    has passed at ``now``. A zero report (零报告) is a report. ``state`` is
    未报告 (nothing in at ``now``) or 迟报 (came after the cut-off, with
    ``reported_at``): the words of :mod:`.reports`; 未报告 first, villages in
    the ledger's order."""
    cols = ["village", "secretary", "secretary_phone", "state", "reported_at"]
    if now < datetime.combine(day, cutoff) or villages.empty:
        return _empty(cols)
    status = village_report_status({"villages": villages, "village_reports": village_reports}, day, cutoff,
                                   now=now)
    out = villages.assign(village=villages["name"], state=status["status"].to_numpy(),
                          reported_at=status["reported_at"].to_numpy())
    rank = out["state"].map({REPORT_MISSING: 0, REPORT_LATE: 1})
    out = out[rank.notna().to_numpy(dtype=bool)]
    if out.empty:
        return _empty(cols)
    return out.assign(_rank=rank).sort_values("_rank", kind="stable")[cols].reset_index(drop=True)


# -- Everything at once ------------------------------------------------------------


class AlertLists(dict):
    """The lists of :func:`summarize_alerts` by key, plus ``bad_rows``: the
    control rows left out of the test lists because their test dates cannot
    be read (:func:`.controls.bad_test_date_rows`)."""

    def __init__(self, lists: Mapping[str, pd.DataFrame], bad_rows: pd.DataFrame):
        super().__init__(lists)
        self.bad_rows = bad_rows


def summarize_alerts(
    data: Data,
    day: date,
    now: datetime,
    *,
    regimes: tuple[Regime, ...] | None = None,
) -> AlertLists:
    """Every list of :data:`ALERT_LABELS` for ``day`` as seen at ``now``.

    Rows of the controls ledger whose test dates cannot be read are skipped
    in the test lists and returned as ``.bad_rows``; every other list is
    complete."""
    controls, tests, checks = data["controls"], data["tests"], data["daily_checks"]
    returnees = data["returnees"]
    active = active_controls(controls, day)
    lists = {
        "fevers": fevers(controls, checks, day, regimes=regimes, active=active),
        "tests_overdue": tests_overdue(controls, tests, day, active=active),
        "tests_due": tests_due(controls, tests, day, active=active),
        "arrival_tests_missing": arrival_tests_missing(returnees, tests, day, now),
        "temperatures_missing": missing_temperatures(controls, checks, day, now, returnees=returnees,
                                                     regimes=regimes, active=active),
        "releases_due": releases_due(controls, day, tests),
        "releases_overdue": releases_overdue(controls, day, tests),
        "arrivals_expected": arrivals_expected(returnees, data["away"], day),
        "no_shows": no_shows(returnees, day),
        "late_registrations": late_registrations(returnees, day),
        "reports_missing": missing_village_reports(data["village_reports"], data["villages"], day, now),
    }
    return AlertLists(lists, bad_test_date_rows(controls))
