"""Regimes as data and the plans derived from them (DOMAIN.md §3)."""

from datetime import date

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
