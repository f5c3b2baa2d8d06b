"""The duty roster (值班值守): shifts and their boundaries (midnight-crossing
night shifts belong to the day they start), who is on duty at a time, and
gaps by head count and by category of person; the rules file's checks."""

from datetime import date, datetime

import pandas as pd
import pytest

from fangkong_lib.domain.duty import gap_reason, on_duty, roster, roster_gaps, roster_summary, shift_at, shifts_for
from fangkong_lib.policy import PolicyError
from fangkong_lib.policy.duty import load_duty_policy

DAY = date(2022, 4, 7)
POSTS = pd.DataFrame([
    dict(name="城郊乡疫情防控指挥部", kind="指挥部", village=""),
    dict(name="柳湾村疫情防控指挥部", kind="村指挥部", village="柳湾村"),
    dict(name="东环路卡点", kind="卡口", village=""),
    dict(name="物资仓库", kind="其他", village=""),
])


def shifts(rows):
    return pd.DataFrame(rows, columns=["date", "post", "shift", "name", "phone", "role", "note"]).assign(
        date=lambda f: pd.to_datetime(f["date"]))


def full_checkpoint(day, shift, post="东环路卡点"):
    return [(day, post, shift, "甲", "", "乡干部", ""), (day, post, shift, "乙", "", "民警", ""),
            (day, post, shift, "丙", "", "志愿者", "")]


def test_a_checkpoint_has_three_eight_hour_shifts_covering_the_day():
    found = shifts_for("卡口")
    assert [(s.name, s.start, s.end, s.hours) for s in found] == [
        ("早班", 7, 15, 8), ("中班", 15, 23, 8), ("夜班", 23, 7, 8)]
    assert sum(s.hours for s in found) == 24
    assert shifts_for("其他") == ()


@pytest.mark.parametrize("when, day, name", [
    (datetime(2022, 4, 7, 6, 59), date(2022, 4, 6), "夜班"),   # last minute of yesterday's night shift
    (datetime(2022, 4, 7, 7, 0), date(2022, 4, 7), "早班"),    # the early shift starts on the hour
    (datetime(2022, 4, 7, 14, 59), date(2022, 4, 7), "早班"),
    (datetime(2022, 4, 7, 15, 0), date(2022, 4, 7), "中班"),
    (datetime(2022, 4, 7, 22, 59), date(2022, 4, 7), "中班"),
    (datetime(2022, 4, 7, 23, 0), date(2022, 4, 7), "夜班"),
    (datetime(2022, 4, 8, 0, 0), date(2022, 4, 7), "夜班"),    # after midnight: still the 7th's night shift
    (datetime(2022, 4, 8, 7, 0), date(2022, 4, 8), "早班"),
])
def test_checkpoint_shift_boundaries(when, day, name):
    found_day, shift = shift_at("卡口", when)
    assert (found_day, shift.name) == (day, name)


@pytest.mark.parametrize("when, day, name", [
    (datetime(2022, 4, 7, 7, 59), date(2022, 4, 6), "夜班"),
    (datetime(2022, 4, 7, 8, 0), date(2022, 4, 7), "白班"),
    (datetime(2022, 4, 7, 19, 59), date(2022, 4, 7), "白班"),
    (datetime(2022, 4, 7, 20, 0), date(2022, 4, 7), "夜班"),
    (datetime(2022, 4, 8, 1, 30), date(2022, 4, 7), "夜班"),
])
def test_hq_day_and_night_shift_boundaries(when, day, name):
    found_day, shift = shift_at("指挥部", when)
    assert (found_day, shift.name) == (day, name)


def test_a_kind_without_shifts_is_never_on_duty():
    assert shift_at("其他", datetime(2022, 4, 7, 10)) is None


def test_roster_has_one_row_per_post_day_and_shift_with_who_is_on():
    table = roster(POSTS, shifts(full_checkpoint(DAY, "早班")), DAY, date(2022, 4, 8))
    # HQ 2 + village 2 + checkpoint 3 shifts, two days; 其他 is not rostered
    assert len(table) == (2 + 2 + 3) * 2
    row = table[(table["post"] == "东环路卡点") & (table["shift"] == "早班") & (table["date"] == DAY)].iloc[0]
    assert (row["required"], row["assigned"], row["missing"], row["reason"]) == (3, 3, 0, "")
    assert row["names"] == "甲、乙、丙"
    assert row["start"] == datetime(2022, 4, 7, 7) and row["end"] == datetime(2022, 4, 7, 15)
    night = table[(table["post"] == "东环路卡点") & (table["shift"] == "夜班") & (table["date"] == DAY)].iloc[0]
    assert night["end"] == datetime(2022, 4, 8, 7)
    assert night["reason"] == "无人值守（缺3人）"


def test_gap_by_category_names_what_is_missing():
    rules = load_duty_policy().kind("卡口")
    early = rules.shift("早班")
    assert gap_reason(rules, early, ["乡干部", "民警", "志愿者"]) == (3, 0, "")
    assert gap_reason(rules, early, ["乡干部", "村干部", "志愿者"]) == (3, 1, "缺1人（缺民警或医护）")
    # three people, none of them police or medic and no volunteer: still two short
    assert gap_reason(rules, early, ["乡干部", "村干部", "乡干部"]) == (
        3, 2, "缺2人（缺民警或医护、缺志愿者或党员）")
    assert gap_reason(rules, early, ["医护", "党员", "村干部", "志愿者"]) == (3, 0, "")


def test_gap_by_count_when_every_category_is_there_but_too_few():
    rules = load_duty_policy().kind("指挥部")
    day = rules.shift("白班")
    assert gap_reason(rules, day, ["乡干部"]) == (2, 1, "缺1人")
    assert gap_reason(rules, day, ["村干部", "党员"]) == (2, 1, "缺1人（缺乡干部带班）")
    assert gap_reason(rules, day, []) == (2, 2, "无人值守（缺2人）")


def test_roster_gaps_are_the_short_rows_only():
    rows = full_checkpoint(DAY, "早班") + full_checkpoint(DAY, "中班")[:2] + [
        (DAY, "城郊乡疫情防控指挥部", "白班", "丁", "", "乡干部", ""),
        (DAY, "城郊乡疫情防控指挥部", "白班", "戊", "", "乡干部", ""),
    ]
    gaps = roster_gaps(POSTS[POSTS["kind"].isin(["卡口", "指挥部"])], shifts(rows), DAY)
    assert list(zip(gaps["post"], gaps["shift"], gaps["reason"])) == [
        ("城郊乡疫情防控指挥部", "夜班", "无人值守（缺2人）"),
        ("东环路卡点", "中班", "缺1人（缺志愿者或党员）"),
        ("东环路卡点", "夜班", "无人值守（缺3人）"),
    ]
    summary = roster_summary(roster(POSTS[POSTS["kind"] == "卡口"], shifts(rows), DAY))
    assert summary == {"shifts": 3, "complete": 1, "short": 2, "empty": 1, "missing": 4}


def test_assignments_to_unknown_posts_or_shifts_do_not_count():
    rows = full_checkpoint(DAY, "早班", post="不存在的卡点") + [(DAY, "东环路卡点", "白班", "甲", "", "乡干部", "")]
    table = roster(POSTS[POSTS["kind"] == "卡口"], shifts(rows), DAY)
    assert table["assigned"].sum() == 0


def test_on_duty_after_midnight_shows_yesterdays_night_shift():
    rows = full_checkpoint(DAY, "夜班") + full_checkpoint(date(2022, 4, 8), "早班")
    rows[-1] = (date(2022, 4, 8), "东环路卡点", "早班", "丁", "", "志愿者", "")
    now = on_duty(POSTS, shifts(rows), datetime(2022, 4, 8, 3, 15))
    cp = now[now["post"] == "东环路卡点"].iloc[0]
    assert (cp["date"], cp["shift"], cp["names"], cp["missing"]) == (DAY, "夜班", "甲、乙、丙", 0)
    assert set(now["post"]) == {"城郊乡疫情防控指挥部", "柳湾村疫情防控指挥部", "东环路卡点"}
    later = on_duty(POSTS, shifts(rows), datetime(2022, 4, 8, 7, 0))
    assert later[later["post"] == "东环路卡点"].iloc[0]["names"] == "甲、乙、丁"


def write(tmp_path, text):
    path = tmp_path / "duty.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    ('[kinds."哨所"]\nshifts = []\n', "未知点位类型"),
    ('[kinds."卡口"]\nshifts = [{ name = "早班", start = 7, end = 25 }]\n', r"kinds\.\"卡口\"\.shifts\[0\] end 25"),
    ('[kinds."卡口"]\nshifts = [{ name = "早班", start = 7, end = 15 }, { name = "中班", start = 14, end = 23 }]\n',
     "重叠"),
    ('[kinds."卡口"]\nshifts = []\n[[kinds."卡口".need]]\nroles = ["保安"]\n', "未知身份 '保安'"),
    ('[kinds."卡口"]\nshifts = []\n[[kinds."卡口".need]]\nroles = ["民警"]\n[[kinds."卡口".need]]\nroles = ["民警"]\n',
     "已在"),
    ('[kinds."卡口"]\nshifts = []\nminimum = -1\n', "minimum -1 应为非负整数"),
    ("kinds = 1\n", "kinds 缺失"),
])
def test_a_bad_rules_file_is_refused_naming_file_and_entry(tmp_path, text, message):
    with pytest.raises(PolicyError, match=f"值班政策文件 duty.toml：.*{message}"):
        load_duty_policy(write(tmp_path, text))


def test_a_shift_may_need_fewer_than_its_kind(tmp_path):
    policy = load_duty_policy(write(tmp_path, (
        '[kinds."卡口"]\nminimum = 3\n'
        'shifts = [{ name = "白班", start = 6, end = 22 }, { name = "夜班", start = 22, end = 6, minimum = 2 }]\n')))
    rules = policy.kind("卡口")
    assert gap_reason(rules, rules.shift("夜班"), ["民警", "志愿者"]) == (2, 0, "")
    assert gap_reason(rules, rules.shift("白班"), ["民警", "志愿者"]) == (3, 1, "缺1人")
