"""One fist (党员志愿者): the gap rules, the roster's posting state, the
rules file and the 五包一 volunteer, on small frames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from fangkong_lib.actions.plans import TeamAssigner, team_sources
from fangkong_lib.domain.volunteers import (
    TeamVolunteers, checkpoint_shifts, household_cover, summarize_volunteers, volunteer_gap_figures,
    volunteer_roster,
)
from fangkong_lib.ledgers import get_ledger
from fangkong_lib.policy import PolicyError
from fangkong_lib.policy.volunteers import VolunteerPolicy, load_volunteer_policy

DAY = date(2022, 4, 7)
A, B, C = "411625199001010015", "411625199002020020", "411625199003030036"


def control(idn, name, measure, start="2022-04-01", end="2022-04-14", released=None, grid="G1"):
    return dict(id_number=idn, name=name, village="柳湾村", natural_village="东庄", grid=grid, house_no="1号",
                phone="13800000000", measure=measure, category="中风险区", regime="henan-2022-03-22",
                start_date=pd.Timestamp(start), end_date=pd.Timestamp(end),
                released_date=pd.Timestamp(released) if released else pd.NaT, team="")


def posting(no, volunteer, name, kind, role, *, grid="G1", household=None, start="2022-04-01", end=None):
    return dict(assign_no=no, volunteer_no=volunteer, name=name, kind=kind, role=role, village="柳湾村", grid=grid,
                household_id=household, household=None, start_date=pd.Timestamp(start),
                end_date=pd.Timestamp(end) if end else pd.NaT, note="")


def frame(key, rows):
    return pd.DataFrame(rows, columns=get_ledger(key).columns)


CONTROLS = frame("controls", [control(A, "甲", "居家隔离"), control(B, "乙", "居家隔离"),
                              control(C, "丙", "三天两检")])


def test_a_household_in_home_isolation_needs_a_buyer_and_a_door_keeper():
    postings = frame("volunteer_assignments", [
        posting("P1", "ZY1", "王一", "居家隔离户", "代购员", household=A),
        posting("P2", "ZY2", "王二", "居家隔离户", "守门员", household=A),
        posting("P3", "ZY3", "王三", "居家隔离户", "代购员", household=B),
        # ended before the day: covers nothing any more
        posting("P4", "ZY4", "王四", "居家隔离户", "守门员", household=B, end="2022-04-06"),
    ])
    homes = household_cover(CONTROLS, postings, DAY).set_index("name")
    assert list(homes.index) == ["甲", "乙"]  # 三天两检 is no household in home isolation
    assert homes.loc["甲", "代购员"] == "王一" and homes.loc["甲", "reason"] == ""
    assert homes.loc["乙", "守门员"] == "" and homes.loc["乙", "reason"] == "缺守门员"
    nobody = household_cover(CONTROLS, postings.iloc[0:0], DAY).set_index("name")
    assert nobody.loc["甲", "reason"] == "缺代购员、缺守门员"


def test_the_posts_a_household_needs_are_policy_data():
    policy = VolunteerPolicy(household_measures=("居家隔离", "三天两检"), household_roles=("代购员",))
    homes = household_cover(CONTROLS, frame("volunteer_assignments", []), DAY, policy)
    assert sorted(homes["name"]) == ["丙", "乙", "甲"] and set(homes["reason"]) == {"缺代购员"}
    assert "守门员" not in homes.columns


def test_released_or_future_controls_are_not_households_to_cover():
    controls = frame("controls", [control(A, "甲", "居家隔离", released="2022-04-06"),
                                  control(B, "乙", "居家隔离", start="2022-04-09", end="2022-04-20")])
    assert household_cover(controls, frame("volunteer_assignments", []), DAY).empty


POSTS = pd.DataFrame([dict(name="东环路卡点", kind="卡口", village="", lon=115.2, lat=33.6, note=""),
                      dict(name="城郊乡疫情防控指挥部", kind="指挥部", village="", lon=115.1, lat=33.6, note="")])


def shift(post, name, shift_name, person, role, phone=""):
    return dict(date=pd.Timestamp(DAY), post=post, shift=shift_name, name=person, phone=phone, role=role, note="")


def test_checkpoint_shifts_are_the_duty_roster_s_with_their_volunteers():
    shifts = frame("duty_shifts", [
        shift("东环路卡点", "", "早班", "张伟", "乡干部"), shift("东环路卡点", "", "早班", "李警官", "民警"),
        shift("东环路卡点", "", "早班", "王一", "志愿者"),
        shift("东环路卡点", "", "中班", "张强", "乡干部"),
    ])
    table = checkpoint_shifts(POSTS, shifts, DAY).set_index("shift")
    assert list(table.index) == ["早班", "中班", "夜班"]  # the checkpoint only, not the HQ
    assert table.loc["早班", "missing"] == 0 and table.loc["早班", "volunteers"] == "王一"
    assert table.loc["中班", "reason"] == "缺2人（缺民警或医护、缺志愿者或党员）"
    assert table.loc["夜班", "reason"].startswith("无人值守")


def test_a_volunteer_is_posted_by_a_grid_a_household_or_a_shift_on_the_rotation():
    volunteers = frame("volunteers", [
        dict(volunteer_no="ZY1", name="王一", identity="预备党员", village="柳湾村", post="代购员", phone="13800000001",
             hours=10.0, team=None),
        dict(volunteer_no="ZY2", name="王二", identity="入党积极分子", village="柳湾村", post="卡点",
             phone="13800000002", hours=5.0, team="基层党员服务队"),
        dict(volunteer_no="ZY3", name="王三", identity="教师", village="柳湾村", post="核酸", phone="13800000003",
             hours=0.0, team="基层党员服务队"),
        dict(volunteer_no="TJ1", name="赵干部", identity="党员干部", village="柳湾村", post="卡点",
             phone="13800000004", hours=30.0, team="党员干部突击队"),
    ])
    postings = frame("volunteer_assignments", [posting("P1", "ZY1", "王一", "网格", "代购员", grid="G7"),
                                               posting("P2", "ZY3", "王三", "网格", "核酸", end="2022-04-01")])
    shifts = frame("duty_shifts", [shift("东环路卡点", "", "夜班", "王二", "志愿者", "13800000002"),
                                   shift("东环路卡点", "", "夜班", "赵干部", "乡干部", "13800000004")])
    roster = volunteer_roster(volunteers, postings, shifts, DAY).set_index("volunteer_no")
    assert roster.loc["ZY1", "team"] == "基层党员服务队"  # blank 队伍: the service team
    assert roster.loc["ZY1", "grids"] == "G7" and roster.loc["ZY1", "state"] == "已派驻"
    assert "东环路卡点 夜班" in roster.loc["ZY2", "shifts"] and roster.loc["ZY2", "state"] == "已派驻"
    assert roster.loc["ZY3", "state"] == "未派驻"  # the posting ended
    assert roster.loc["TJ1", "state"] == "未派驻"  # on duty as a cadre, not as a volunteer
    kpis = summarize_volunteers(roster.reset_index(), household_cover(CONTROLS, postings, DAY),
                                checkpoint_shifts(POSTS, shifts, DAY))
    assert kpis == dict(assault=1, service=3, probationary=1, activists=1, hours=45.0, unassigned=2,
                             households=2, households_missing=2, short_shifts=3)


def test_the_overview_figures_are_the_page_s():
    data = {"controls": CONTROLS, "volunteer_assignments": frame("volunteer_assignments", []),
            "duty_posts": POSTS, "duty_shifts": frame("duty_shifts", [shift("东环路卡点", "", "早班", "张伟", "乡干部")])}
    gaps = volunteer_gap_figures(data, DAY)
    assert len(gaps["volunteer_households"]) == 2 and len(gaps["checkpoint_short_shifts"]) == 3
    assert volunteer_gap_figures(data, DAY, village="杏园村")["volunteer_households"].empty
    # a day the duty roster was not kept yet: no staffing figure to report
    before = volunteer_gap_figures(data | {"duty_shifts": frame("duty_shifts", [])}, DAY)
    assert before["checkpoint_short_shifts"].empty


def test_the_five_in_one_volunteer_comes_from_the_roster():
    """The household's volunteer first, then the grid's, then one of the
    natural village or village; nobody posted in the village: 待指定."""
    grids = pd.DataFrame([dict(code="G1", village="柳湾村", natural_village="东庄", member="党员甲", cadre="干部甲"),
                          dict(code="G2", village="柳湾村", natural_village="东庄", member="党员乙", cadre="干部甲"),
                          dict(code="G3", village="杏园村", natural_village="西庄", member="党员丙", cadre="干部乙")])
    postings = frame("volunteer_assignments", [
        posting("P1", "ZY1", "王一", "网格", "代购员", grid="G1"),
        posting("P2", "ZY2", "王二", "居家隔离户", "守门员", household=A),
        posting("P3", "ZY3", "王三", "网格", "核酸", grid="G2", start="2022-04-10"),
    ])
    assigner = TeamAssigner(grids, pd.DataFrame(columns=["code", "name", "village", "cadre"]),
                            pd.DataFrame({"name": ["柳湾村", "杏园村"], "area": ["一片", "一片"]}),
                            pd.DataFrame(columns=["staff_no", "name", "level", "village", "area"]),
                            assignments=postings, day=DAY)
    slot = [s.kind for s in team_sources()].index("volunteer")
    assert assigner("G1", id_number=A)[slot] == "王二"
    assert assigner("G1", id_number=B)[slot] == "王一"
    assert assigner("G2", id_number=B)[slot] == "王一"  # 王三 starts on 4月10日
    assert assigner("G3", id_number=B)[slot] == "待指定"
    assert TeamVolunteers(postings, grids)(B, "G2") == "王三"  # without a day: every posting


def test_the_rules_file_is_checked_on_load(tmp_path):
    assert load_volunteer_policy().household_roles == ("代购员", "守门员")
    bad = tmp_path / "volunteers.toml"
    bad.write_text('[household]\nmeasures = ["居家隔离"]\nroles = ["送菜员"]\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="household.roles.*送菜员"):
        load_volunteer_policy(bad)
    bad.write_text('[household]\nmeasures = ["居家隔离"]\nroles = ["代购员"]\n[checkpoints]\nwindow_days = -1\n',
                   encoding="utf-8")
    with pytest.raises(PolicyError, match="window_days"):
        load_volunteer_policy(bad)
    bad.write_text('roles = ["代购员"]\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"\[household\]"):
        load_volunteer_policy(bad)
