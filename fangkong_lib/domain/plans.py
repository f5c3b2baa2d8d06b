"""Control plans (管控方案) derived from the regimes: pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ..policy import DEFAULT_JURISDICTION, Regime, load_regimes, rule_for


@dataclass(frozen=True)
class Plan:
    """What control applies to one returnee.

    ``start`` is day 1 (the day the person left the risk area when known, else
    the arrival day: 填平补齐, so a late arrival serves only what is left;
    三天两检 always counts from the arrival day); ``end`` is the last day of
    control (应解除日期); ``test_dates`` are the planned nucleic-acid tests on
    or after arrival, the first on the arrival day (落地核酸, within 24 h of
    arrival) for every controlled plan; ``regime`` is the key of the regime the
    rule comes from.
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
    jurisdiction: str = DEFAULT_JURISDICTION,
    forced_regime: str | None = None,
    regimes: tuple[Regime, ...] | None = None,
) -> Plan:
    """The plan for one person who arrives on ``arrival``.

    The rule is the one in force on the arrival day for the person's place
    (:func:`fangkong_lib.policy.rule_for`: the township's own rule from
    2022-03-10, Henan's from 2022-03-22).

    Examples
    --------
    >>> p = make_plan("中高风险区所在市其他县", date(2022, 4, 1))
    >>> p.measure, p.end, [d.day for d in p.test_dates]
    ('居家健康监测', datetime.date(2022, 4, 7), [1, 3, 5, 7])

    填平补齐: left the risk area on 1 April, arrived on 5 April; the arrival
    test comes first, then what is left of the plan:

    >>> p = make_plan("高风险区", date(2022, 4, 5), left_risk=date(2022, 4, 1))
    >>> p.start, p.end, [d.day for d in p.test_dates]
    (datetime.date(2022, 4, 1), datetime.date(2022, 4, 14), [5, 7, 10, 14])
    """
    regime, rule = rule_for(category, arrival, jurisdiction=jurisdiction, forced=forced_regime, regimes=regimes)
    if not rule.steps:
        return Plan(category, "无", None, None, (), regime.key)
    day1 = arrival if rule.from_arrival or left_risk is None else min(left_risk, arrival)
    end = day1 + timedelta(days=rule.total_days - 1)
    if end < arrival:  # already served everything before arriving
        return Plan(category, "无", day1, end, (), regime.key)
    planned = {day1 + timedelta(days=n - 1) for n in rule.test_days}
    # the arrival test (落地核酸) is due within 24 h whatever was planned before
    tests = tuple(sorted({arrival} | {d for d in planned if d >= arrival}))
    return Plan(category, rule.measure, day1, end, tests, regime.key)


def measure_on(measure: str, regime_key: str, category: str, start: date, day: date,
               regimes: tuple[Regime, ...] | None = None) -> str:
    """The single measure in force on ``day`` for a (possibly two-step) plan."""
    if "+" not in measure:
        return measure
    regimes = regimes if regimes is not None else load_regimes()
    regime = next((r for r in regimes if r.key == regime_key), None)
    if regime is None or category not in regime.rules:
        # a row typed by hand with an unknown regime: its first step, rather
        # than no overview at all
        return measure.split("+")[0]
    return regime.rules[category].measure_on_day((day - start).days + 1)


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
