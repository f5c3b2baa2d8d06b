"""Control plans (管控方案) derived from the regimes: pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ..policy import Regime, load_regimes, regime_for


@dataclass(frozen=True)
class Plan:
    """What control applies to one returnee.

    ``start`` is day 1 (the day the person left the risk area when known, else
    the arrival day: 填平补齐, so a late arrival serves only what is left);
    ``end`` is the last day of control (应解除日期); ``test_dates`` are the
    planned nucleic-acid tests on or after arrival.
    """

    category: str
    measure: str
    start: date | None
    end: date | None
    test_dates: tuple[date, ...]
    regime: str

    @property
    def controlled(self) -> bool:
        return self.measure != "无"


def make_plan(
    category: str,
    arrival: date,
    left_risk: date | None = None,
    *,
    jurisdiction: str = "河南省",
    forced_regime: str | None = None,
    regimes: tuple[Regime, ...] | None = None,
) -> Plan:
    """The plan for one person who arrives on ``arrival``.

    Examples
    --------
    >>> p = make_plan("中高风险区所在市其他县", date(2022, 4, 1))
    >>> p.measure, p.end, [d.day for d in p.test_dates]
    ('居家健康监测', datetime.date(2022, 4, 7), [1, 3, 5, 7])
    >>> p = make_plan("高风险区", date(2022, 4, 5), left_risk=date(2022, 4, 1))
    >>> p.start, p.end, [d.day for d in p.test_dates]
    (datetime.date(2022, 4, 1), datetime.date(2022, 4, 14), [7, 10, 14])
    """
    regimes = regimes if regimes is not None else load_regimes()
    regime = regime_for(arrival, jurisdiction=jurisdiction, forced=forced_regime, regimes=regimes)
    rule = regime.rule(category)
    day1 = min(left_risk, arrival) if left_risk is not None else arrival
    if not rule.steps:
        return Plan(category, "无", None, None, (), regime.key)
    end = day1 + timedelta(days=rule.total_days - 1)
    if end < arrival:  # already served everything before arriving
        return Plan(category, "无", day1, end, (), regime.key)
    tests = tuple(
        d for d in (day1 + timedelta(days=n - 1) for n in rule.test_days) if d >= arrival
    )
    return Plan(category, rule.measure, day1, end, tests, regime.key)


def measure_on(measure: str, regime_key: str, category: str, start: date, day: date,
               regimes: tuple[Regime, ...] | None = None) -> str:
    """The single measure in force on ``day`` for a (possibly two-step) plan."""
    if "+" not in measure:
        return measure
    regimes = regimes if regimes is not None else load_regimes()
    by_key = {r.key: r for r in regimes}
    rule = by_key[regime_key].rule(category)
    return rule.measure_on_day((day - start).days + 1)


def current_measures(controls: pd.DataFrame, day: date) -> pd.Series:
    """For each control row active on ``day``, the measure in force; ``None``
    for rows not active (not started, ended or released)."""
    ts = pd.Timestamp(day)
    active = (
        (controls["start_date"] <= ts)
        & (controls["end_date"] >= ts)
        & (controls["released_date"].isna() | (controls["released_date"] > ts))
    )
    out = pd.Series([None] * len(controls), index=controls.index, dtype=object)
    regimes = load_regimes()
    for idx in controls.index[active.fillna(False).to_numpy(dtype=bool)]:
        row = controls.loc[idx]
        out[idx] = measure_on(
            row["measure"], row["regime"], row["category"], row["start_date"].date(), day, regimes
        )
    return out
