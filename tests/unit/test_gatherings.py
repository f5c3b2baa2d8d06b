"""The gathering rules (红事缓办, 白事简办) at each boundary, the approval
steps, the rule files' loader, and publicity coverage against its targets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from fangkong_lib.domain.gatherings import check_step, gathering_breaches, gathering_table
from fangkong_lib.domain.publicity_work import publicity_coverage
from fangkong_lib.policy import PolicyError
from fangkong_lib.policy.community import load_gathering_rules, load_publicity_policy

REPORTED = datetime(2022, 4, 7, 9, 30)


def wedding(**changes) -> dict:
    """A wedding that keeps every rule, exactly at the limits."""
    row = dict(kind="红事", host="王某", village="柳湾村", date=date(2022, 4, 10), reported_at=REPORTED,
               expected_people=50, tables=5, pledge=True)
    return row | changes


def funeral(**changes) -> dict:
    row = dict(kind="白事", host="李某", village="柳湾村", date=date(2022, 4, 9), reported_at=REPORTED,
               deceased_at=REPORTED - timedelta(hours=24), expected_people=50, tables=2, pledge=True,
               supervised=True, separate_meals=True)
    return row | changes


def test_the_rules_are_the_policy_file_s():
    rules = load_gathering_rules()
    assert (rules.wedding.report_days_ahead, rules.wedding.max_people, rules.wedding.max_per_table) == (3, 50, 10)
    assert rules.funeral.report_within_hours == 24 and rules.funeral.supervised and rules.funeral.separate_meals


def test_a_wedding_at_every_limit_keeps_the_rules():
    assert gathering_breaches(wedding()) == []


@pytest.mark.parametrize("changes, breach", [
    (dict(date=date(2022, 4, 9)), "报备不足3天"),  # 2 days ahead
    (dict(reported_at=datetime(2022, 4, 7, 23, 59), date=date(2022, 4, 9)), "报备不足3天"),
    (dict(date=date(2022, 4, 7)), "报备不足3天"),  # reported on the day
    (dict(expected_people=51, tables=6), "人数超过50人"),
    (dict(expected_people=41, tables=4), "每桌超过10人"),
    (dict(pledge=False), "未签承诺书"),
    (dict(reported_at=None), "未填报备时间"),
])
def test_a_wedding_one_past_a_limit_names_the_rule_with_its_limit(changes, breach):
    assert gathering_breaches(wedding(**changes)) == [breach]


def test_exactly_three_days_counts_calendar_days_whatever_the_hour():
    assert gathering_breaches(wedding(reported_at=datetime(2022, 4, 7, 23, 59))) == []
    assert gathering_breaches(wedding(expected_people=40, tables=4)) == []  # exactly 10 a table


def test_a_wedding_reported_late_and_too_big_names_both():
    assert gathering_breaches(wedding(date=date(2022, 4, 9), expected_people=60, tables=6)) == [
        "报备不足3天", "人数超过50人"]


def test_no_tables_means_no_banquet_to_check():
    assert gathering_breaches(wedding(expected_people=30, tables=0)) == []


def test_a_funeral_reported_exactly_24_hours_after_the_death_keeps_the_rules():
    assert gathering_breaches(funeral()) == []


@pytest.mark.parametrize("changes, breach", [
    (dict(deceased_at=REPORTED - timedelta(hours=24, minutes=1)), "超过24小时报备"),
    (dict(deceased_at=None), "未填去世时间"),
    (dict(expected_people=51), "人数超过50人"),
    (dict(supervised=False), "无村干部全程监管"),
    (dict(supervised=None), "无村干部全程监管"),
    (dict(separate_meals=False), "未分餐"),
])
def test_a_funeral_breaking_one_rule_names_it(changes, breach):
    assert gathering_breaches(funeral(**changes)) == [breach]


def test_a_funeral_has_no_per_table_limit_but_must_share_no_banquet():
    assert gathering_breaches(funeral(expected_people=40, tables=1)) == []


def test_the_table_carries_the_breaches_and_reads_a_blank_approval_as_pending():
    frame = pd.DataFrame([wedding(approval=None), wedding(host="张某", expected_people=60, tables=5,
                                                          approval="村已审批")])
    table = gathering_table(frame)
    assert table["breach_text"].tolist() == ["", "人数超过50人、每桌超过10人"]
    assert table["state"].tolist() == ["待审批", "村已审批"]


def test_village_first_then_township_and_never_a_breach():
    assert check_step(wedding(approval="待审批"), "村", True) == []
    assert "须先经村审批" in check_step(wedding(approval="待审批"), "乡", True)[0]
    assert check_step(wedding(approval="村已审批"), "乡", True) == []
    assert "村里已审批" in check_step(wedding(approval="村已审批"), "村", True)[0]
    assert "无需再审批" in check_step(wedding(approval="乡已审批"), "乡", True)[0]
    assert "已不予批准" in check_step(wedding(approval="不予批准"), "村", True)[0]
    refused = check_step(wedding(approval="待审批", expected_people=60, tables=6), "村", True)
    assert "人数超过50人" in refused[0] and "不能批准" in refused[0]
    # refusing a breach is always possible while it waits
    assert check_step(wedding(approval="待审批", expected_people=60), "村", False) == []
    assert check_step(wedding(approval="村已审批"), "乡", False) == []


def test_a_bad_rule_file_names_the_file_and_entry(tmp_path):
    path = tmp_path / "gatherings.toml"
    path.write_text('[wedding]\nkind = "红事"\nreport_days_ahead = 3\nmax_people = -5\nmax_per_table = 10\n'
                    '[funeral]\nkind = "白事"\nreport_within_hours = 24\nmax_people = 50\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"gatherings\.toml：wedding\.max_people"):
        load_gathering_rules(path)
    path.write_text("[wedding]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"缺少 \[funeral\]"):
        load_gathering_rules(path)


def test_a_bad_publicity_file_names_the_entry(tmp_path):
    path = tmp_path / "publicity.toml"
    path.write_text('topics = ["A"]\n[units]\n"喇叭" = "次"\n[targets]\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="未知的宣传渠道：喇叭"):
        load_publicity_policy(path)


# -- Publicity coverage --------------------------------------------------------------------


def _work(village: str, day: date, channel: str, **values) -> dict:
    return dict(date=day, village=village, channel=channel, topic="非必要不返乡", quantity=0, households=None,
                groups=None, members=None) | values


def test_a_village_meeting_every_target_is_not_behind_and_one_missing_one_is():
    policy = load_publicity_policy()
    t = policy.targets
    day = t.since + timedelta(days=t.window_days - 1)
    villages = pd.DataFrame({"name": ["甲村", "乙村"], "households": [100, 100]})
    rows = []
    for v in ("甲村", "乙村"):
        for i in range(t.window_days):
            rows.append(_work(v, t.since + timedelta(days=i), "村村通广播", quantity=int(t.broadcasts_per_day)))
        rows.append(_work(v, day, "宣传单", quantity=100, households=int(100 * t.leaflet_share)))
        rows.append(_work(v, day, "入户宣传", quantity=50, households=int(100 * t.door_visit_share)))
        rows.append(_work(v, day, "微信群", quantity=3, groups=2, members=int(100 * t.wechat_member_share)))
        rows.append(_work(v, day, "横幅标语", quantity=t.banners))
    rows[0]["quantity"] -= 1  # 乙村 keeps its targets; 甲村 misses one broadcast in the window
    cov = publicity_coverage(pd.DataFrame(rows), villages, day, policy=policy).set_index("village")
    assert not cov.loc["乙村", "behind"] and cov.loc["乙村", "reasons_text"] == ""
    assert cov.loc["甲村", "behind"]
    assert cov.loc["甲村", "reasons"] == [f"广播日均{(t.broadcasts_per_day * t.window_days - 1) / t.window_days:.1f}次，"
                                         f"不足{t.broadcasts_per_day:g}次"]
    assert cov.loc["乙村", "leaflet_share"] == t.leaflet_share


def test_a_village_without_any_work_is_behind_on_every_target():
    villages = pd.DataFrame({"name": ["丙村"], "households": [80]})
    empty = pd.DataFrame(columns=["date", "village", "channel", "topic", "quantity", "households", "groups", "members"])
    cov = publicity_coverage(empty, villages, date(2022, 4, 7))
    assert cov["behind"].tolist() == [True] and len(cov.loc[0, "reasons"]) == 5
