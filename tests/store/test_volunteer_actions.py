"""The volunteer roster's writes on SQLite and PostgreSQL: posting a
代购员 to a household short of one closes its gap and names the 五包一
volunteer, audited; an unknown volunteer, grid or person, a released person,
an end before the start and a duplicate posting are refused with nothing
written; a checkpoint shift is a row of the one duty roster; hours add up
within the policy's bound; a new volunteer gets the next number."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import fangkong_lib.actions as A
from fangkong_lib import store
from fangkong_lib.actions import ActionError
from fangkong_lib.domain.volunteers import checkpoint_shifts, household_cover

DAY = date(2022, 4, 7)
HOME, GONE = "411625199001010015", "411625199002020020"
USER = "志愿者管理员"


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    rows = {
        "villages": [dict(code="411625200201", name="柳湾村"), dict(code="411625200202", name="杏园村")],
        "grids": [dict(code="CJ01-01-1", village="柳湾村", natural_village="东庄", member="党员甲", cadre="干部甲")],
        "controls": [
            dict(id_number=HOME, name="甲", village="柳湾村", natural_village="东庄", grid="CJ01-01-1",
                 phone="13800000000", measure="居家隔离", category="中风险区", start_date=date(2022, 4, 1),
                 end_date=date(2022, 4, 14), regime="henan-2022-03-22", status="管控中",
                 team=["干部甲", "书记", "村医", "民警", "待指定"]),
            dict(id_number=GONE, name="乙", village="柳湾村", grid="CJ01-01-1", phone="13800000009",
                 measure="居家隔离", category="中风险区", start_date=date(2022, 3, 20), end_date=date(2022, 4, 2),
                 released_date=date(2022, 4, 3), regime="henan-2022-03-22", status="已解除"),
        ],
        "volunteers": [
            dict(volunteer_no="ZY0001", name="王一", identity="预备党员", village="柳湾村", post="代购员",
                 phone="13800000001", hours=10.0, team="基层党员服务队"),
            dict(volunteer_no="ZY0002", name="王二", identity="老党员", village="柳湾村", post="卡点",
                 phone="13800000002", hours=0.0, team="基层党员服务队"),
        ],
        "volunteer_assignments": [
            dict(assign_no="PZ00001", volunteer_no="ZY0002", name="王二", kind="居家隔离户", role="守门员",
                 village="柳湾村", grid="CJ01-01-1", household_id=HOME, household="甲", start_date=date(2022, 4, 1)),
        ],
        "duty_posts": [dict(name="东环路卡点", kind="卡口", lon=115.2, lat=33.63)],
        "duty_shifts": [dict(date=DAY, post="东环路卡点", shift="夜班", name="张伟", phone="13800000005", role="乡干部"),
                        dict(date=DAY, post="东环路卡点", shift="夜班", name="李警官", phone="13800000006",
                             role="民警")],
    }
    for key, frame in rows.items():
        store.write_ledger(engine, key, pd.DataFrame(frame), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    yield engine
    engine.dispose()


def frames(engine):
    return store.load_ledgers(engine, ["controls", "volunteers", "volunteer_assignments", "duty_posts",
                                       "duty_shifts"])


def reason(engine) -> str:
    f = frames(engine)
    return household_cover(f["controls"], f["volunteer_assignments"], DAY).set_index("id_number").loc[HOME, "reason"]


def test_posting_the_missing_buyer_closes_the_gap_and_names_the_five_in_one_volunteer(engine):
    assert reason(engine) == "缺代购员"
    message = A.assign_volunteer(engine, dict(volunteer_no="ZY0001", kind="居家隔离户", role="代购员",
                                              household_id=HOME), user=USER)
    assert "王一 任代购员" in message and "PZ00002" in message and "五包一志愿者已更新" in message
    assert reason(engine) == ""
    f = frames(engine)
    row = f["volunteer_assignments"].set_index("assign_no").loc["PZ00002"]
    assert (row["household"], row["village"], row["grid"], row["start_date"]) == (
        "甲", "柳湾村", "CJ01-01-1", pd.Timestamp(DAY))  # taken from the controls ledger, from today
    assert f["controls"].set_index("id_number").loc[HOME, "team"].split(";")[-1] == "王一"
    audit = store.load_audit(engine)
    assert {"volunteer_assignments", "controls"} <= set(audit[audit["user"] == USER]["ledger"])
    # the team's volunteer is now one posted to the household: a second posting leaves it
    message = A.assign_volunteer(engine, dict(volunteer_no="ZY0002", kind="网格", role="消杀员", grid="CJ01-01-1"),
                                 user=USER)
    assert "CJ01-01-1" in message and "五包一" not in message


@pytest.mark.parametrize("raw, words", [
    (dict(volunteer_no="ZY9999", kind="网格", role="代购员", grid="CJ01-01-1"), "志愿者名册中没有这个编号"),
    (dict(volunteer_no="ZY0001", kind="网格", role="代购员", grid="CJ99-01-1"), "不是已登记的网格"),
    (dict(volunteer_no="ZY0001", kind="居家隔离户", role="代购员", household_id="411625199912310019"),
     "管控台账中没有这个人"),
    (dict(volunteer_no="ZY0001", kind="居家隔离户", role="代购员", household_id=GONE), "已解除管控"),
    (dict(volunteer_no="ZY0001", kind="网格", role="送菜员", grid="CJ01-01-1"), "岗位"),
    (dict(volunteer_no="ZY0001", kind="网格", role="代购员", grid="CJ01-01-1", start_date="2022-04-07",
          end_date="2022-04-01"), "早于开始日期"),
    (dict(volunteer_no="ZY0002", kind="居家隔离户", role="守门员", household_id=HOME, start_date="2022-04-05"),
     "无需重复派驻"),
])
def test_a_bad_posting_is_refused_and_nothing_is_written(engine, raw, words):
    before = (store.count_rows(engine, "volunteer_assignments"), len(store.load_audit(engine)))
    with pytest.raises(ActionError, match=words):
        A.assign_volunteer(engine, raw, user=USER)
    assert (store.count_rows(engine, "volunteer_assignments"), len(store.load_audit(engine))) == before


def test_an_ended_posting_leaves_the_household_short_again(engine):
    assert reason(engine) == "缺代购员"
    with pytest.raises(ActionError, match="早于开始日期"):
        A.end_assignment(engine, "PZ00001", "2022-03-01", user=USER)
    assert "至 04月06日" in A.end_assignment(engine, "PZ00001", "2022-04-06", user=USER)
    assert reason(engine) == "缺代购员、缺守门员"


def test_a_volunteer_on_a_checkpoint_shift_is_a_row_of_the_duty_roster(engine):
    def gap():
        f = frames(engine)
        return checkpoint_shifts(f["duty_posts"], f["duty_shifts"], DAY).set_index("shift").loc["夜班"]

    assert gap()["reason"] == "缺1人（缺志愿者或党员）"
    message = A.assign_volunteer_shift(engine, "ZY0002", DAY, "东环路卡点", "夜班", user=USER)
    assert "王二" in message and "已排班" in message
    assert gap()["missing"] == 0 and gap()["volunteers"] == "王二"
    row = frames(engine)["duty_shifts"].set_index("name").loc["王二"]
    assert (row["role"], row["phone"]) == ("志愿者", "13800000002")
    with pytest.raises(ActionError, match="不是已登记的卡口"):
        A.assign_volunteer_shift(engine, "ZY0001", DAY, "城郊乡疫情防控指挥部", "夜班", user=USER)
    with pytest.raises(ActionError, match="班次"):  # the duty roster's own rules
        A.assign_volunteer_shift(engine, "ZY0001", DAY, "东环路卡点", "白班", user=USER)


def test_hours_add_up_within_the_policy_s_bound(engine):
    assert "累计 14 小时" in A.log_hours(engine, "ZY0001", 4, user=USER, day=DAY, note="送菜")
    for bad in (0, -2, 25, "三小时"):
        with pytest.raises(ActionError, match="服务时长"):
            A.log_hours(engine, "ZY0001", bad, user=USER)
    with pytest.raises(ActionError, match="不能晚于今天"):
        A.log_hours(engine, "ZY0001", 2, user=USER, day="2022-04-09")
    assert frames(engine)["volunteers"].set_index("volunteer_no").loc["ZY0001", "hours"] == 14.0
    entry = store.load_audit(engine, "volunteers").iloc[-1]
    assert entry["action"] == "log_hours" and "送菜" in entry["after"]


def test_a_new_volunteer_gets_the_next_number_of_the_team(engine):
    assert "ZY0003 新人：已新增" in A.save_volunteer(
        engine, dict(name="新人", phone="13800000007", village="柳湾村", post="代购员"), user=USER)
    assert "TJ0001" in A.save_volunteer(
        engine, dict(name="干部", phone="13800000008", village="柳湾村", post="卡点", team="党员干部突击队",
                     identity="党员干部"), user=USER)
    with pytest.raises(ActionError, match="村"):
        A.save_volunteer(engine, dict(name="外人", village="不存在村"), user=USER)
