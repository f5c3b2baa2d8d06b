"""Regimes as data and the plans derived from them (DOMAIN.md §3)."""

from datetime import date, timedelta

import pytest

from fangkong_lib.domain.plans import make_plan
from fangkong_lib.policy import PolicyError, load_regimes, parse_regime, regime_for


def test_all_regimes_load_and_cover_every_category():
    keys = {r.key for r in load_regimes()}
    assert keys == {"henan-2022-03-22", "national-8", "national-9", "national-20"}


@pytest.mark.parametrize("day, key", [
    (date(2022, 3, 15), "national-8"),
    (date(2022, 3, 22), "henan-2022-03-22"),
    (date(2022, 6, 27), "henan-2022-03-22"),
    (date(2022, 6, 28), "national-9"),
    (date(2022, 11, 11), "national-20"),
])
def test_regime_by_date_most_local_first(day, key):
    assert regime_for(day).key == key


# category, arrival, left risk area, measure, last day, test days (day numbers from day 1)
HENAN = [
    ("高风险区", date(2022, 4, 1), None, "集中隔离", date(2022, 4, 14), [1, 4, 7, 10, 14]),
    ("中高风险区所在县", date(2022, 4, 1), None, "集中隔离", date(2022, 4, 14), [1, 4, 7, 10, 14]),
    ("上海", date(2022, 4, 1), None, "集中隔离+居家隔离", date(2022, 4, 14), [1, 4, 7, 10, 14]),
    ("中高风险区所在市其他县", date(2022, 4, 1), None, "居家健康监测", date(2022, 4, 7), [1, 3, 5, 7]),
    ("省外低风险地区", date(2022, 4, 1), None, "三天两检", date(2022, 4, 3), [1, 2]),
    ("省内低风险地区", date(2022, 4, 1), None, "无", None, []),
    # 填平补齐: left the risk area on 1 April, arrived on 5 April: serves only what is left
    ("高风险区", date(2022, 4, 5), date(2022, 4, 1), "集中隔离", date(2022, 4, 14), [7, 10, 14]),
    # already served everything before arriving
    ("中高风险区所在市其他县", date(2022, 4, 20), date(2022, 4, 1), "无", date(2022, 4, 7), []),
]


@pytest.mark.parametrize("category, arrival, left, measure, end, days", HENAN)
def test_henan_plans(category, arrival, left, measure, end, days):
    plan = make_plan(category, arrival, left)
    assert plan.regime == "henan-2022-03-22"
    assert plan.measure == measure
    assert plan.end == end
    day1 = left or arrival
    assert [(d - day1).days + 1 for d in plan.test_dates] == days


def test_regime_switch_on_2022_06_28():
    before = make_plan("高风险区", date(2022, 6, 27))
    after = make_plan("高风险区", date(2022, 6, 28))
    assert (before.measure, (before.end - before.start).days + 1) == ("集中隔离", 14)
    assert (after.measure, (after.end - after.start).days + 1) == ("集中隔离", 7)
    assert [(d - after.start).days + 1 for d in after.test_dates] == [1, 2, 3, 5, 7]
    assert make_plan("中风险区", date(2022, 7, 1)).measure == "居家隔离"


def test_bad_regime_file_names_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('key="x"\nname="x"\njurisdiction="河南省"\nlevel="province"\nvalid_from=2022-01-01\n'
                   '[rules."火星"]\nsteps=[]\ntest_days=[]\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="bad.toml.*未知风险类别"):
        parse_regime(bad)


# -- Every regime against DOMAIN.md §3, table-driven ---------------------------
#
# regime, category, measure, days of control, test days (day 1 = the day the
# person left the risk area, here the arrival day). The arrival date picks the
# regime by itself: each case also checks that the date lands in the right one.
REGIME_DAYS = {
    "national-8": date(2021, 6, 1),
    "henan-2022-03-22": date(2022, 4, 1),
    "national-9": date(2022, 7, 1),
    "national-20": date(2022, 12, 1),
}
CENTRAL_14 = ("集中隔离", 14, [1, 4, 7, 10, 14])
NONE = ("无", 0, [])
RULES = {
    "henan-2022-03-22": {
        "高风险区": CENTRAL_14,
        "中风险区": CENTRAL_14,
        "中高风险区所在县": CENTRAL_14,
        "上海": ("集中隔离+居家隔离", 14, [1, 4, 7, 10, 14]),
        "中高风险区所在市其他县": ("居家健康监测", 7, [1, 3, 5, 7]),  # 7天4检
        "省外低风险地区": ("三天两检", 3, [1, 2]),
        "省内低风险地区": NONE,
        # close contacts as in the 8th edition: 14 central (1,4,7,14) + 7 home monitoring (2 and 7)
        "密切接触者": ("集中隔离+居家健康监测", 21, [1, 4, 7, 14, 16, 21]),
        "次密接": ("集中隔离", 7, [1, 4, 7]),
    },
    "national-8": {
        "高风险区": ("集中隔离", 14, [1, 4, 7, 14]),
        "中风险区": ("集中隔离", 14, [1, 4, 7, 14]),
        "中高风险区所在县": ("居家健康监测", 14, [1, 7, 14]),
        "上海": ("居家健康监测", 14, [1, 7, 14]),
        "中高风险区所在市其他县": ("居家健康监测", 7, [1, 7]),
        "省外低风险地区": NONE,
        "省内低风险地区": NONE,
        "密切接触者": ("集中隔离+居家健康监测", 21, [1, 4, 7, 14, 16, 21]),
        "次密接": ("集中隔离", 7, [1, 4, 7]),
    },
    "national-9": {
        "高风险区": ("集中隔离", 7, [1, 2, 3, 5, 7]),
        "中风险区": ("居家隔离", 7, [1, 4, 7]),
        "中高风险区所在县": ("三天两检", 3, [1, 2]),
        "中高风险区所在市其他县": ("三天两检", 3, [1, 2]),
        "上海": ("三天两检", 3, [1, 2]),
        "省外低风险地区": ("三天两检", 3, [1, 2]),
        "省内低风险地区": NONE,
        "密切接触者": ("集中隔离+居家健康监测", 10, [1, 2, 3, 5, 7, 10]),  # 7 central + 3 home monitoring
        "次密接": NONE,
    },
    "national-20": {
        "高风险区": ("居家隔离", 7, [1, 3, 5, 7]),  # high-risk spill-over: 7 d home isolation
        "中风险区": NONE,
        "中高风险区所在县": NONE,
        "中高风险区所在市其他县": NONE,
        "上海": NONE,
        "省外低风险地区": NONE,
        "省内低风险地区": NONE,
        "密切接触者": ("集中隔离+居家隔离", 8, [1, 2, 3, 4, 5, 8]),  # 5 central + 3 home
        "次密接": NONE,
    },
}
CASES = [(key, cat, *rule) for key, table in RULES.items() for cat, rule in table.items()]


def test_the_table_covers_every_regime_and_category():
    from fangkong_lib.ledgers import RISK_CATEGORIES

    assert set(RULES) == {r.key for r in load_regimes()}
    assert all(set(table) == set(RISK_CATEGORIES) for table in RULES.values())


@pytest.mark.parametrize("key, category, measure, days, tests", CASES)
def test_every_regime_against_the_domain_table(key, category, measure, days, tests):
    arrival = REGIME_DAYS[key]
    plan = make_plan(category, arrival)
    assert plan.regime == key
    assert plan.measure == measure
    assert plan.controlled == (measure != "无")
    if measure == "无":
        assert plan.end is None and plan.test_dates == ()
        return
    assert plan.start == arrival
    assert (plan.end - plan.start).days + 1 == days
    assert [(d - plan.start).days + 1 for d in plan.test_dates] == tests
    regime = regime_for(arrival)
    assert (regime.temperature_checks_per_day, regime.fever_threshold) == (2, 37.3)


@pytest.mark.parametrize("key, category, measure, days, tests", [c for c in CASES if c[2] != "无"])
def test_late_arrival_serves_only_what_is_left(key, category, measure, days, tests):
    """填平补齐: day 1 is the day the person left the risk area; tests before
    the arrival are not made up, the last day does not move."""
    left = REGIME_DAYS[key]
    for late in (1, days - 1):
        arrival = left + timedelta(days=late)
        plan = make_plan(category, arrival, left_risk=left)
        assert plan.measure == measure and plan.start == left
        assert plan.end == left + timedelta(days=days - 1)
        assert [(d - left).days + 1 for d in plan.test_dates] == [t for t in tests if t > late]
    served = make_plan(category, left + timedelta(days=days), left_risk=left)
    assert served.measure == "无" and served.test_dates == ()


def test_left_risk_date_after_arrival_is_not_used():
    """A departure date typed after the arrival is a mistake: day 1 stays the arrival."""
    plan = make_plan("高风险区", date(2022, 4, 1), left_risk=date(2022, 4, 5))
    assert plan.start == date(2022, 4, 1)


@pytest.mark.parametrize("before, after, key_before, key_after", [
    (date(2022, 3, 21), date(2022, 3, 22), "national-8", "henan-2022-03-22"),
    (date(2022, 6, 27), date(2022, 6, 28), "henan-2022-03-22", "national-9"),
    (date(2022, 11, 10), date(2022, 11, 11), "national-9", "national-20"),
])
def test_regime_switches_on_its_first_day(before, after, key_before, key_after):
    assert make_plan("高风险区", before).regime == key_before
    assert make_plan("高风险区", after).regime == key_after


def test_a_regime_can_be_forced():
    plan = make_plan("中风险区", date(2022, 4, 1), forced_regime="national-9")
    assert (plan.regime, plan.measure, (plan.end - plan.start).days + 1) == ("national-9", "居家隔离", 7)
    with pytest.raises(PolicyError, match="未知政策"):
        make_plan("中风险区", date(2022, 4, 1), forced_regime="nope")


def test_no_regime_for_a_date_is_a_clear_error():
    with pytest.raises(PolicyError, match="2020-01-01 没有适用的管控政策"):
        make_plan("高风险区", date(2020, 1, 1))
