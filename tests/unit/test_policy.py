"""Regimes as data and the plans derived from them (DOMAIN.md §3).

Table-driven: for each regime period and each risk category, the plan a
returnee gets (the regime the rule comes from, measure, days, test days and
release date), with the arrival test (落地核酸) in every plan, 填平补齐
shortening and the boundaries between regimes.
"""

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from fangkong_lib.domain.plans import make_plan
from fangkong_lib.ledgers import RISK_CATEGORIES
from fangkong_lib.policy import (
    NOT_REGIMES, POLICY_DIR, PolicyError, fever_threshold, five_in_one_roles, jurisdiction_chain, load_regimes, parse_regime,
    regime_for, rule_for,
)

TOWNSHIP, HENAN, N8, N9, N20 = "chengjiao-2022-03-10", "henan-2022-03-22", "national-8", "national-9", "national-20"
PKG = Path(__file__).resolve().parents[2] / "fangkong_lib"


def test_all_regimes_load():
    assert {r.key for r in load_regimes()} == {TOWNSHIP, HENAN, N8, N9, N20}


def test_the_township_lies_within_henan():
    assert jurisdiction_chain("城郊乡") == ("城郊乡", "郸城县", "周口市", "河南省", "全国")
    with pytest.raises(PolicyError, match="未知辖区 '火星乡'.*places.toml"):
        jurisdiction_chain("火星乡")


@pytest.mark.parametrize("day, key", [
    (date(2022, 3, 9), N8),
    (date(2022, 3, 10), TOWNSHIP),  # the township's own rule, most local first
    (date(2022, 3, 21), TOWNSHIP),
    (date(2022, 3, 22), HENAN),
    (date(2022, 6, 27), HENAN),
    (date(2022, 6, 28), N9),
    (date(2022, 11, 11), N20),
])
def test_regime_by_date_most_local_first(day, key):
    assert regime_for(day).key == key


def test_a_province_sees_only_its_own_and_national_rules():
    assert regime_for(date(2022, 3, 15), jurisdiction="河南省").key == N8


# -- Every period and category, table-driven ------------------------------------
#
# For an arrival on the period's date (day 1 = arrival): the regime the rule
# comes from, the measure, days of control and test days. The release date
# (应解除日期) is day ``days``.
PERIODS = {
    "national-8 before the township": date(2022, 3, 9),
    "township from 10 March": date(2022, 3, 10),
    "township to 21 March": date(2022, 3, 21),
    "Henan from 22 March": date(2022, 3, 22),
    "Henan in April": date(2022, 4, 1),
    "national-9": date(2022, 7, 1),
    "national-20": date(2022, 12, 1),
}
NONE = ("无", 0, [])
CENTRAL_14 = ("集中隔离", 14, [1, 4, 7, 10, 14])
CONTACTS_8 = (N8, "集中隔离+居家健康监测", 21, [1, 4, 7, 14, 16, 21])  # 14 central (1,4,7,14) + 7 home (2, 7)
SUB_CONTACTS_8 = (N8, "集中隔离", 7, [1, 4, 7])  # not documented, but no documented rule exists
N8_TABLE = {
    "高风险区": (N8, "集中隔离", 14, [1, 4, 7, 14]),
    "中风险区": (N8, "集中隔离", 14, [1, 4, 7, 14]),
    "中高风险区所在县": (N8, "居家健康监测", 14, [1, 7, 14]),
    "上海": (N8, "居家健康监测", 14, [1, 7, 14]),
    "中高风险区所在市其他县": (N8, "居家健康监测", 7, [1, 7]),
    "省外低风险地区": (N8, *NONE),
    "省内低风险地区": (N8, *NONE),
    "密切接触者": CONTACTS_8,
    "次密接": SUB_CONTACTS_8,
}
TOWNSHIP_TABLE = {
    "高风险区": (TOWNSHIP, *CENTRAL_14),
    "中风险区": (TOWNSHIP, *CENTRAL_14),
    "中高风险区所在县": (TOWNSHIP, *CENTRAL_14),
    # 7 central (1, 4, 7) + 7 at home with 上门7天4检 on its days 1, 3, 5, 7
    "上海": (TOWNSHIP, "集中隔离+居家隔离", 14, [1, 4, 7, 8, 10, 12, 14]),
    "中高风险区所在市其他县": (TOWNSHIP, "居家健康监测", 7, [1, 3, 5, 7]),  # 上门7天4检
    "省外低风险地区": (TOWNSHIP, "三天两检", 3, [1, 2]),
    "省内低风险地区": (TOWNSHIP, *NONE),
    "密切接触者": CONTACTS_8,  # not the township's to rule
    "次密接": SUB_CONTACTS_8,
}
HENAN_TABLE = {
    "高风险区": (HENAN, *CENTRAL_14),
    "中风险区": (HENAN, *CENTRAL_14),
    "中高风险区所在县": (HENAN, *CENTRAL_14),
    "上海": (HENAN, "集中隔离+居家隔离", 14, [1, 4, 7, 10, 14]),
    "中高风险区所在市其他县": (HENAN, "居家健康监测", 7, [1, 3, 5, 7]),  # 7天4检
    "省外低风险地区": (HENAN, "三天两检", 3, [1, 2]),
    "省内低风险地区": (HENAN, *NONE),
    "密切接触者": CONTACTS_8,
    "次密接": SUB_CONTACTS_8,
}
TABLE = {
    "national-8 before the township": N8_TABLE,
    "township from 10 March": TOWNSHIP_TABLE,
    "township to 21 March": TOWNSHIP_TABLE,
    "Henan from 22 March": HENAN_TABLE,
    "Henan in April": HENAN_TABLE,
    "national-9": {
        "高风险区": (N9, "集中隔离", 7, [1, 2, 3, 5, 7]),
        "中风险区": (N9, "居家隔离", 7, [1, 4, 7]),
        "中高风险区所在县": (N9, "三天两检", 3, [1, 2]),
        "中高风险区所在市其他县": (N9, "三天两检", 3, [1, 2]),
        "上海": (N9, "三天两检", 3, [1, 2]),
        "省外低风险地区": (N9, "三天两检", 3, [1, 2]),
        "省内低风险地区": (N9, *NONE),
        "密切接触者": (N9, "集中隔离+居家健康监测", 10, [1, 2, 3, 5, 7, 10]),  # 7 central + 3 home
        "次密接": (N9, *NONE),
    },
    "national-20": {
        "高风险区": (N20, "居家隔离", 7, [1, 3, 5, 7]),  # high-risk spill-over: 7 d home isolation
        "中风险区": (N20, *NONE),
        "中高风险区所在县": (N20, *NONE),
        "中高风险区所在市其他县": (N20, *NONE),
        "上海": (N20, *NONE),
        "省外低风险地区": (N20, *NONE),
        "省内低风险地区": (N20, *NONE),
        "密切接触者": (N20, "集中隔离+居家隔离", 8, [1, 2, 3, 4, 5, 8]),  # 5 central + 3 home
        "次密接": (N20, *NONE),
    },
}
CASES = [(period, cat, *rule) for period, table in TABLE.items() for cat, rule in table.items()]


def test_the_table_covers_every_period_and_category():
    assert set(TABLE) == set(PERIODS)
    assert all(set(table) == set(RISK_CATEGORIES) for table in TABLE.values())
    used = {rule[0] for table in TABLE.values() for rule in table.values()}
    assert used == {r.key for r in load_regimes()}


@pytest.mark.parametrize("period, category, key, measure, days, tests", CASES)
def test_every_period_and_category_against_the_domain_table(period, category, key, measure, days, tests):
    arrival = PERIODS[period]
    plan = make_plan(category, arrival)
    assert (plan.regime, plan.measure, plan.controlled) == (key, measure, measure != "无")
    if measure == "无":
        assert plan.end is None and plan.test_dates == ()
        return
    assert plan.start == arrival
    assert plan.end == arrival + timedelta(days=days - 1)  # 应解除日期
    assert [(d - plan.start).days + 1 for d in plan.test_dates] == tests
    assert plan.test_dates[0] == arrival  # 落地核酸 within 24 h
    regime = regime_for(arrival)
    assert (regime.temperature_checks_per_day, regime.fever_threshold) == (2, 37.3)


@pytest.mark.parametrize("period, category, key, measure, days, tests",
                         [c for c in CASES if c[3] != "无" and c[3] != "三天两检"])
def test_a_late_arrival_serves_only_what_is_left_after_an_arrival_test(period, category, key, measure, days, tests):
    """填平补齐: day 1 is the day the person left the risk area and the last
    day does not move; tests before the arrival are not made up, but the
    arrival test (落地核酸) is always there. The arrival day picks the rule."""
    arrival = PERIODS[period]
    for late in (1, days - 1):
        left = arrival - timedelta(days=late)
        plan = make_plan(category, arrival, left_risk=left)
        assert (plan.regime, plan.measure, plan.start) == (key, measure, left)
        assert plan.end == left + timedelta(days=days - 1)
        expected = sorted({late + 1} | {t for t in tests if t > late})
        assert [(d - left).days + 1 for d in plan.test_dates] == expected
        assert plan.test_dates[0] == arrival
    served = make_plan(category, arrival, left_risk=arrival - timedelta(days=days))
    assert served.measure == "无" and served.test_dates == ()


@pytest.mark.parametrize("left, arrival", [
    (date(2022, 4, 1), date(2022, 4, 2)),
    (date(2022, 4, 1), date(2022, 4, 3)),
    (date(2022, 3, 1), date(2022, 4, 1)),  # long gone from the risk area
])
def test_three_day_two_tests_always_counts_from_the_arrival(left, arrival):
    """三天两检: two tests at least 24 h apart within 3 days of arrival, also
    when the person left the risk area earlier."""
    plan = make_plan("省外低风险地区", arrival, left_risk=left)
    assert plan.measure == "三天两检"
    assert (plan.start, plan.end) == (arrival, arrival + timedelta(days=2))
    assert plan.test_dates == (arrival, arrival + timedelta(days=1))


# The boundaries of the township's rule, for the categories where it differs.
@pytest.mark.parametrize("arrival, category, key, measure, tests", [
    (date(2022, 3, 9), "省外低风险地区", N8, "无", []),
    (date(2022, 3, 10), "省外低风险地区", TOWNSHIP, "三天两检", [1, 2]),
    (date(2022, 3, 21), "省外低风险地区", TOWNSHIP, "三天两检", [1, 2]),
    (date(2022, 3, 22), "省外低风险地区", HENAN, "三天两检", [1, 2]),
    (date(2022, 3, 9), "中高风险区所在市其他县", N8, "居家健康监测", [1, 7]),
    (date(2022, 3, 10), "中高风险区所在市其他县", TOWNSHIP, "居家健康监测", [1, 3, 5, 7]),
    (date(2022, 3, 21), "中高风险区所在市其他县", TOWNSHIP, "居家健康监测", [1, 3, 5, 7]),
    (date(2022, 3, 22), "中高风险区所在市其他县", HENAN, "居家健康监测", [1, 3, 5, 7]),
    (date(2022, 3, 9), "高风险区", N8, "集中隔离", [1, 4, 7, 14]),
    (date(2022, 3, 10), "高风险区", TOWNSHIP, "集中隔离", [1, 4, 7, 10, 14]),
])
def test_township_rule_boundaries(arrival, category, key, measure, tests):
    plan = make_plan(category, arrival)
    assert (plan.regime, plan.measure) == (key, measure)
    assert [(d - arrival).days + 1 for d in plan.test_dates] == tests


def test_township_home_control_is_four_tests_in_seven_days_at_the_door():
    """Everyone under home control in the township's rule: tests on days 1,
    3, 5 and 7 of the home step, temperatures twice a day."""
    township = next(r for r in load_regimes() if r.key == TOWNSHIP)
    assert township.temperature_checks_per_day == 2
    for rule in township.rules.values():
        start = 0
        for step in rule.steps:
            if step.measure in ("居家隔离", "居家健康监测"):
                home = [d - start for d in rule.test_days if start < d <= start + step.days]
                assert (step.days, home) == (7, [1, 3, 5, 7]), rule.category
            start += step.days


def test_undocumented_national_rules_are_marked_and_never_chosen_over_documented_ones():
    n8 = next(r for r in load_regimes() if r.key == N8)
    assert {c for c, rule in n8.rules.items() if rule.documented} == {"密切接触者"}
    for category in RISK_CATEGORIES:
        regime, rule = rule_for(category, date(2022, 4, 1))
        documented_elsewhere = any(category in r.rules and r.rules[category].documented
                                   for r in load_regimes() if r.covers(date(2022, 4, 1)))
        assert rule.documented or not documented_elsewhere, category


def test_left_risk_date_after_arrival_is_not_used():
    """A departure date typed after the arrival is a mistake: day 1 stays the arrival."""
    plan = make_plan("高风险区", date(2022, 4, 1), left_risk=date(2022, 4, 5))
    assert plan.start == date(2022, 4, 1)


@pytest.mark.parametrize("before, after, key_before, key_after", [
    (date(2022, 3, 9), date(2022, 3, 10), N8, TOWNSHIP),
    (date(2022, 3, 21), date(2022, 3, 22), TOWNSHIP, HENAN),
    (date(2022, 6, 27), date(2022, 6, 28), HENAN, N9),
    (date(2022, 11, 10), date(2022, 11, 11), N9, N20),
])
def test_regime_switches_on_its_first_day(before, after, key_before, key_after):
    assert make_plan("高风险区", before).regime == key_before
    assert make_plan("高风险区", after).regime == key_after


def test_a_regime_can_be_forced():
    plan = make_plan("中风险区", date(2022, 4, 1), forced_regime=N9)
    assert (plan.regime, plan.measure, (plan.end - plan.start).days + 1) == (N9, "居家隔离", 7)
    with pytest.raises(PolicyError, match="未知政策"):
        make_plan("中风险区", date(2022, 4, 1), forced_regime="nope")


def test_no_regime_for_a_date_is_a_clear_error():
    with pytest.raises(PolicyError, match="2020-01-01 没有适用的管控政策"):
        make_plan("高风险区", date(2020, 1, 1))


# -- Bad regime files -------------------------------------------------------------------

HEAD = 'key="x"\nname="x"\njurisdiction="河南省"\nlevel="province"\nvalid_from=2022-01-01\nfever_threshold=37.3\n'


@pytest.mark.parametrize("body, message", [
    ('[rules."火星"]\nsteps=[]\ntest_days=[]\n', "未知风险类别"),
    ('partial=true\n[rules."高风险区"]\nsteps=[{measure="集中隔离",days=14}]\ntest_days=[4,7]\n', "应从第 1 天开始"),
    ('partial=true\n[rules."省外低风险地区"]\nsteps=[{measure="三天两检",days=3}]\ntest_days=[1]\n', "三天两检应为"),
    ('[rules."高风险区"]\nsteps=[{measure="集中隔离",days=14}]\ntest_days=[1]\n', "缺少风险类别.*partial = true"),
    ('partial=true\n[rules."高风险区"]\ndocumented="no"\nsteps=[]\ntest_days=[]\n', "documented"),
])
def test_bad_regime_file_names_the_problem(tmp_path, body, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(PolicyError, match=f"bad.toml.*{message}"):
        parse_regime(bad)


def test_a_regime_without_a_fever_threshold_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(HEAD.replace("fever_threshold=37.3\n", "") + "partial=true\n[rules]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="bad.toml：fever_threshold 缺失"):
        parse_regime(bad)


# -- The fever threshold lives in the regime files only (one fact, one place) ------------


def test_fever_threshold_comes_from_the_regime_in_force():
    assert fever_threshold(date(2022, 3, 15)) == 37.3
    assert fever_threshold(date(2022, 4, 7), regime=N9) == 37.3
    stricter = tuple(replace(r, fever_threshold=37.5) if r.key == TOWNSHIP else r for r in load_regimes())
    assert fever_threshold(date(2022, 3, 15), regimes=stricter) == 37.5
    assert fever_threshold(date(2022, 3, 22), regimes=stricter) == 37.3


def test_a_day_without_a_regime_still_has_a_fever_threshold():
    """A briefing of a day before the first regime shows zero fevers, not an error."""
    early = tuple(replace(r, fever_threshold=37.6) if r.key == N8 else r for r in load_regimes())
    assert fever_threshold(date(2019, 6, 1), regimes=early) == 37.6
    late = tuple(replace(r, fever_threshold=37.8) if r.key == N20 else r for r in load_regimes())
    assert fever_threshold(date(2030, 1, 1), regimes=late) == 37.8


def test_no_fever_threshold_literal_in_the_code():
    """37.3 is written in the regime files, nowhere in the Python code."""
    found = []
    for path in PKG.rglob("*.py"):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"37\.3|\bFEVER_THRESHOLD\b", line):
                found.append(f"{path.relative_to(PKG)}:{lineno}: {line.strip()}")
    assert not found
    assert all("fever_threshold = 37.3" in p.read_text(encoding="utf-8")
               for p in POLICY_DIR.glob("*.toml") if p.name not in NOT_REGIMES)


# -- 五包一 -----------------------------------------------------------------------------


def test_five_in_one_roles_as_the_township_names_them():
    assert five_in_one_roles() == ("乡干部", "支部书记", "村医", "一村一警", "志愿者")
