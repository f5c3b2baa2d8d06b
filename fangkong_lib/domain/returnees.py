"""Returnees from away to released (返乡人员管控, gates 1-3): pure functions.

:func:`person_table` puts everyone the workflow knows on one row each with
their status on a date — 在外 (away), 已报备 (pre-registered), 已返乡
(arrived, no control), 管控中 (under control, also after 应解除日期 until the
release is recorded), 已解除 (released) — joined from the away, returnees
and controls ledgers. :func:`filter_people` applies the page's filters,
:func:`summarize_returnees` gives KPIs, per-grid counts and the alert lists
for the filtered people, and :func:`person_days` the day-by-day grid of one
person's tests and temperatures. Nothing is read or written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..policy import Regime, fever_threshold, five_in_one_roles, load_regimes
from .alerts import ALERT_LABELS, OVERDUE_ALERTS, SLOT_CUTOFFS, SLOTS
from .controls import BAD_ROW_COLUMNS, parse_test_dates
from .plans import current_measures

Data = Mapping[str, pd.DataFrame]

PERSON_STATUSES = ("在外", "已报备", "已返乡", "管控中", "已解除")
#: Lists about a person (every alert but the villages' reports).
PERSON_ALERTS = tuple(k for k in ALERT_LABELS if k != "reports_missing")
UNASSIGNED = "待指定"

#: KPI keys in display order with their Chinese labels (one place).
KPI_LABELS = {
    "people": "筛选人数",
    **{s: s for s in PERSON_STATUSES},
    "arrivals_expected": "3日内预计返乡",
    "tests_due": "今日待检",
    "tests_overdue": "逾期未检",
    "arrival_tests_missing": "落地核酸未检",
    "temperatures_missing": "体温未报",
    "fevers": "发热",
    "releases_due": "今日应解除",
    "no_shows": "逾期未到",
    "late_registrations": "未提前3天报备",
    "reports_missing": "村日报未报",
}

#: Chinese headers of the people table (one place).
PEOPLE_COLUMNS = {
    "name": "姓名",
    "sex": "性别",
    "id_number": "身份证号",
    "phone": "手机号",
    "village": "村",
    "grid": "网格",
    "status": "状态",
    "category": "风险类别",
    "measure": "管控措施",
    "key_date": "到达/预计日期",
    "end_date": "应解除日期",
    "flags": "待办",
}

_COLUMNS = ["id_number", "name", "sex", "phone", "village", "natural_village", "grid", "status", "category",
            "origin", "measure", "plan_measure", "report_date", "expected", "arrival", "start_date", "end_date",
            "released_date", "key_date", "source"]


def _ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day)


def person_table(data: Data, day: date, alerts: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Everyone in the workflow on ``day``, one row per ID number.

    ``key_date`` is the date that places a person in time: the arrival, else
    the expected arrival or return. With ``alerts`` (from
    :func:`fangkong_lib.domain.alerts.summarize_alerts`), ``flags`` names the
    lists a person is on and ``overdue`` says whether any of them is a late
    one (:data:`~fangkong_lib.domain.alerts.OVERDUE_ALERTS`).
    """
    ts = _ts(day)
    returnees, controls, away = data["returnees"], data["controls"], data["away"]
    controls = controls.drop_duplicates("id_number", keep="last")
    ctrl = controls.set_index("id_number")
    current = current_measures(controls, day).set_axis(controls["id_number"].to_numpy())

    # Returnees known on the day: registered by then, or already arrived.
    r = returnees[returnees["report_date"].isna() | (returnees["report_date"] <= ts)
                  | (returnees["actual_arrival"] <= ts)].drop_duplicates("id_number", keep="last")
    rid = r["id_number"]
    arrived = (r["actual_arrival"] <= ts).to_numpy(dtype=bool)
    plan_measure = rid.map(ctrl["measure"]) if len(ctrl) else pd.Series(None, index=r.index, dtype=object)
    released_on = rid.map(ctrl["released_date"]) if len(ctrl) else pd.Series(pd.NaT, index=r.index)
    controlled = (plan_measure.notna() & (plan_measure != "无")).to_numpy(dtype=bool)
    released = (released_on <= ts).to_numpy(dtype=bool)
    status = np.select([~arrived, controlled & released, controlled], ["已报备", "已解除", "管控中"], "已返乡")
    people = pd.DataFrame({
        "id_number": rid, "name": r["name"], "sex": r["sex"], "phone": r["phone"], "village": r["village"],
        "natural_village": r["natural_village"], "grid": r["grid"], "status": status,
        "category": r["risk_category"], "origin": r["origin"], "plan_measure": plan_measure.where(controlled, None),
        "report_date": r["report_date"], "expected": r["expected_arrival"],
        "arrival": r["actual_arrival"].where(arrived), "source": "返乡报备",
    })

    # Controls without a registration (found by 排查, 大数据推送, 协查).
    c = controls[~controls["id_number"].isin(returnees["id_number"]) & (controls["start_date"] <= ts)]
    if len(c):
        c_released = (c["released_date"] <= ts).to_numpy(dtype=bool)
        people = pd.concat([people, pd.DataFrame({
            "id_number": c["id_number"], "name": c["name"], "sex": c["sex"], "phone": c["phone"],
            "village": c["village"], "natural_village": c["natural_village"], "grid": c["grid"],
            "status": np.where(c_released, "已解除", "管控中"), "category": c["category"], "origin": c["origin"],
            "plan_measure": c["measure"], "arrival": c["start_date"], "source": "管控台账",
        })], ignore_index=True)

    # People away with no registration yet (gate 1).
    a = away[~away["id_number"].isin(people["id_number"])
             & (away["left_date"].isna() | (away["left_date"] <= ts))].drop_duplicates("id_number", keep="last")
    if len(a):
        origin = (a["province"].fillna("") + a["city"].fillna("") + a["county"].fillna("")).str.strip()
        people = pd.concat([people, pd.DataFrame({
            "id_number": a["id_number"], "name": a["name"], "sex": a["sex"], "phone": a["phone"],
            "village": a["village"], "natural_village": a["natural_village"], "grid": a["grid"],
            "status": np.where((a["returned"] == True).fillna(False), "已返乡", "在外"),  # noqa: E712
            "category": None, "origin": origin, "plan_measure": None, "expected": a["expected_return"],
            "source": "在外人员",
        })], ignore_index=True)

    people = people.reindex(columns=_COLUMNS).reset_index(drop=True)
    ids = people["id_number"]
    for col in ("start_date", "end_date", "released_date"):
        people[col] = ids.map(ctrl[col]) if len(ctrl) else pd.NaT
        people[col] = pd.to_datetime(people[col])
    for col in ("report_date", "expected", "arrival"):
        people[col] = pd.to_datetime(people[col])
    under = people["status"] == "管控中"
    people["measure"] = np.where(under, ids.map(current).fillna(people["plan_measure"]),
                                 np.where(people["status"] == "已解除", people["plan_measure"], None))
    people["key_date"] = people["arrival"].fillna(people["expected"])
    people["flags"], people["overdue"] = "", False
    if alerts:
        flags: dict[str, list[str]] = {}
        late: set[str] = set()
        for key in PERSON_ALERTS:
            frame = alerts.get(key)
            if frame is None or frame.empty:
                continue
            for idn in frame["id_number"].unique():
                flags.setdefault(idn, []).append(ALERT_LABELS[key])
                if key in OVERDUE_ALERTS:
                    late.add(idn)
        people["flags"] = ids.map(lambda i: "、".join(flags.get(i, ())))
        people["overdue"] = ids.isin(late)
    order = {s: i for i, s in enumerate(("管控中", "已报备", "在外", "已返乡", "已解除"))}
    people["_order"] = people["status"].map(order)
    people = people.sort_values(["overdue", "_order", "village", "grid", "name"],
                                ascending=[False, True, True, True, True], kind="stable")
    return people.drop(columns="_order").reset_index(drop=True)


def filter_people(
    people: pd.DataFrame,
    *,
    village: str = "",
    grid: str = "",
    category: str = "",
    measure: str = "",
    status: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    only_overdue: bool = False,
) -> pd.DataFrame:
    """Rows matching every filter given (empty filters match all).

    ``measure`` matches either step of a two-step plan (集中隔离+居家隔离);
    the date range applies to ``key_date`` (a person without one is left out
    once a range is set).
    """
    keep = pd.Series(True, index=people.index)
    if village:
        keep &= people["village"] == village
    if grid:
        keep &= people["grid"] == grid
    if category:
        keep &= people["category"] == category
    if measure:
        keep &= people["measure"].map(lambda m: isinstance(m, str) and measure in m.split("+"))
    if status:
        keep &= people["status"] == status
    if date_from is not None:
        keep &= people["key_date"] >= _ts(date_from)
    if date_to is not None:
        keep &= people["key_date"] <= _ts(date_to)
    if only_overdue:
        keep &= people["overdue"]
    return people[keep.fillna(False).to_numpy(dtype=bool)]


def filter_alerts(alerts: Mapping[str, pd.DataFrame], people: pd.DataFrame, *,
                  village: str = "") -> dict[str, pd.DataFrame]:
    """The alert lists restricted to ``people`` (already filtered); the
    villages' reports follow the village filter only."""
    ids = set(people["id_number"])
    out = {}
    for key, frame in alerts.items():
        if key == "reports_missing":
            out[key] = frame[frame["village"] == village] if village else frame
        else:
            out[key] = frame[frame["id_number"].isin(ids)]
    return out


def _no_bad_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in BAD_ROW_COLUMNS})


@dataclass
class ReturneeSummary:
    """What the returnee page shows for one date and filter.

    ``bad_rows``: control rows (of the village filter) whose test dates
    cannot be read and are left out of the test lists
    (:func:`.controls.bad_test_date_rows`, :func:`.controls.describe_bad_rows`).
    """

    people: pd.DataFrame
    alerts: dict[str, pd.DataFrame]
    kpis: dict[str, int]
    by_grid: pd.Series
    bad_rows: pd.DataFrame = field(default_factory=_no_bad_rows)


def summarize_returnees(people: pd.DataFrame, alerts: Mapping[str, pd.DataFrame],
                        grid_codes: Iterable[str], **filters) -> ReturneeSummary:
    """Filter ``people`` (see :func:`filter_people`), restrict the alerts to
    them, count (:data:`KPI_LABELS`) and aggregate them per grid cell. The
    alerts' ``bad_rows`` (from :func:`.alerts.summarize_alerts`) pass through,
    limited to the village filter."""
    shown = filter_people(people, **filters)
    lists = filter_alerts(alerts, shown, village=filters.get("village", ""))
    counts = shown["status"].value_counts()
    kpis = {"people": len(shown), **{s: int(counts.get(s, 0)) for s in PERSON_STATUSES}}
    kpis.update({k: len(lists[k]) for k in KPI_LABELS if k in lists})
    codes = list(grid_codes)
    by_grid = shown.groupby("grid").size().reindex(codes, fill_value=0) if len(shown) else pd.Series(0, index=codes)
    bad = getattr(alerts, "bad_rows", None)
    bad = _no_bad_rows() if bad is None else bad
    village = filters.get("village", "")
    if village:
        bad = bad[bad["village"] == village]
    return ReturneeSummary(shown, lists, kpis, by_grid.astype(int), bad.reset_index(drop=True))


# -- One person ---------------------------------------------------------------------


def team_of(control: Mapping, roles: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(role, name) pairs of a control row's 五包一 team (names stored in role order)."""
    roles = list(roles) if roles is not None else list(five_in_one_roles())
    stored = control.get("team")
    if isinstance(stored, (list, tuple)):
        names = list(stored)
    else:
        names = str(stored).split(";") if isinstance(stored, str) and stored else []
    return [(role, names[i].strip() if i < len(names) and names[i].strip() else UNASSIGNED)
            for i, role in enumerate(roles)]


def regime_name(key: str | None, regimes: tuple[Regime, ...] | None = None) -> str:
    for regime in regimes if regimes is not None else load_regimes():
        if regime.key == key:
            return regime.name
    return key or ""


#: Cell states of :func:`person_days`.
DAY_STATES = {
    "done": "已完成",
    "due": "今日待办",
    "late": "逾期",
    "abnormal": "异常",
    "planned": "计划",
    "absent": "未到",
    "none": "",
}


def person_days(
    control: Mapping,
    tests: pd.DataFrame,
    checks: pd.DataFrame,
    day: date,
    now: datetime,
    *,
    arrival: date | None = None,
    threshold: float | None = None,
    checks_per_day: int = 2,
    cutoffs: Mapping[str, time] = SLOT_CUTOFFS,
) -> pd.DataFrame:
    """One row per day of a control, from 开始日期 to 应解除日期 (or the
    release), with a state and a text for the test and each temperature slot.

    States (:data:`DAY_STATES`): a planned test is ``done`` once sampled (on
    the day or late, before the next planned test), ``abnormal`` if positive,
    ``due`` on ``day``, ``late`` before it, ``planned`` after; a reading is
    ``done``, ``abnormal`` (fever), ``due`` before its slot's cut-off on
    ``now``'s day, ``late`` after it. Days before the person arrived
    (填平补齐) are ``absent``. ``threshold`` (℃) defaults to the fever
    threshold of the control's regime. Test dates that cannot be read
    (:func:`.controls.bad_test_date_rows`) plan no test: the grid still shows
    the samples taken and the temperatures.
    """
    if threshold is None:
        threshold = fever_threshold(pd.Timestamp(control["start_date"]).date(), regime=control.get("regime"))
    start = pd.Timestamp(control["start_date"]).date()
    end = pd.Timestamp(control["end_date"]).date()
    released = control.get("released_date")
    if released is not None and not pd.isna(released):
        end = min(end, pd.Timestamp(released).date())
    planned = list(parse_test_dates(control.get("test_dates")) or ())
    samples = tests.sort_values("sample_date")
    sample_by_day = {pd.Timestamp(s).date(): r for s, r in zip(samples["sample_date"], samples["result"])}
    fulfilled: dict[date, date] = {}
    for i, p in enumerate(planned):
        nxt = planned[i + 1] if i + 1 < len(planned) else date.max
        hits = [s for s in sample_by_day if p <= s < nxt and s <= day]
        if hits:
            fulfilled[p] = min(hits)
    readings = checks.drop_duplicates("date", keep="last").set_index("date") if len(checks) else None
    rows = []
    for n in range((end - start).days + 1):
        d = start + pd.Timedelta(days=n).to_pytimedelta()
        row = {"date": d, "day_no": n + 1}
        if arrival is not None and d < arrival:
            for key in ("test", "am", "pm"):
                row[f"{key}_state"], row[f"{key}_text"] = "absent", "未到"
            rows.append(row)
            continue
        # test
        if d in planned:
            s = fulfilled.get(d)
            if s is not None:
                result = sample_by_day[s] or "待出"
                row["test_state"] = "abnormal" if result == "阳性" else "done"
                row["test_text"] = result if s == d else f"{result}（{s:%m-%d}补采）"
            else:
                row["test_state"] = "due" if d == day else ("late" if d < day else "planned")
                row["test_text"] = {"due": "今日应检", "late": "未检", "planned": "应检"}[row["test_state"]]
        elif d in sample_by_day and d <= day:
            result = sample_by_day[d] or "待出"
            row["test_state"] = "abnormal" if result == "阳性" else "done"
            row["test_text"] = f"{result}（加采）"
        else:
            row["test_state"], row["test_text"] = "none", ""
        # temperatures
        for n_slot, (slot, column) in enumerate(SLOTS.items(), start=1):
            key = "am" if column == "temp_am" else "pm"
            value = None
            if readings is not None and pd.Timestamp(d) in readings.index:
                value = readings.loc[pd.Timestamp(d), column]
            if n_slot > checks_per_day:
                state, text = "none", ""
            elif value is not None and not pd.isna(value):
                state = "abnormal" if value >= threshold else "done"
                text = f"{value:.1f}"
            elif d > now.date():
                state, text = "planned", ""
            elif now >= datetime.combine(d, cutoffs[slot]):
                state, text = "late", "未报"
            else:
                state, text = "due", "待测"
            row[f"{key}_state"], row[f"{key}_text"] = state, text
        rows.append(row)
    return pd.DataFrame(rows, columns=["date", "day_no", "test_state", "test_text", "am_state", "am_text",
                                       "pm_state", "pm_text"])
