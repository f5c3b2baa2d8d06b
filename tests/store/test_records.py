"""Writing through the forms (fangkong_lib.actions: problems, places,
supplies) on SQLite and PostgreSQL: one transaction per action, audited, and
nothing written when the loop or the stock refuses."""

from __future__ import annotations

import threading
from datetime import date

import pandas as pd
import pytest

import fangkong_lib.actions as R
from fangkong_lib import store

DAY = date(2022, 4, 7)
VILLAGES = ["甲村", "乙村"]
OK = dict(code_posted=True, scan_enforced=True, temperature=True, masks=True, crowd_limit=True,
          disinfection_log=True, staff_health_log=True)


@pytest.fixture
def engine(migrated_db_url):
    """A small township: two villages, two places, one problem, some supplies."""
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    frames = {
        "villages": [dict(code="411625200201", name=v) for v in VILLAGES],
        "places": [
            dict(code="ZKT2000001", name="甲村王记超市", category="超市", village="甲村", manager="王五",
                 manager_phone="13800000001", code_posted=True, status="正常营业"),
            dict(code="ZKT2000002", name="乙村李记药店", category="药店", village="乙村", manager="李四",
                 manager_phone="13800000002", code_posted=True, status="正常营业"),
        ],
        "problems": [dict(problem_no="DC2022-001", date=date(2022, 4, 5), team="第一督查组", target="甲村",
                          target_type="村", village="甲村", category="宣传", description="宣传不到位",
                          deadline=date(2022, 4, 7), stage="发现", accountability="无")],
        "problem_events": [dict(problem_no="DC2022-001", step="发现", time=pd.Timestamp("2022-04-05 10:00"),
                                who="第一督查组", note="宣传不到位")],
        "donations": [
            dict(voucher_no="JZ2022-001", date=date(2022, 3, 20), donor="甲公司", donor_type="单位", item="口罩",
                 unit="盒", quantity=100.0, value=2500.0, location="乡政府物资库"),
            dict(voucher_no="JZ2022-002", date=date(2022, 3, 25), donor="乙公司", donor_type="单位", item="口罩",
                 unit="盒", quantity=20.0, value=500.0, location="卫生院"),
        ],
        "distributions": [dict(voucher_no="CK2022-001", date=date(2022, 3, 28), item="口罩", quantity=30.0, unit="盒",
                               recipient_type="卡点", recipient="东环路卡点", location="乡政府物资库")],
    }
    for key, rows in frames.items():
        store.write_ledger(engine, key, pd.DataFrame(rows), user="setup")
    yield engine
    engine.dispose()


def counts(engine) -> dict:
    keys = ("inspections", "places", "problems", "problem_events", "supervisions", "donations", "distributions")
    return {k: store.count_rows(engine, k) for k in keys} | {"audit": len(store.load_audit(engine))}


def events_of(engine, number: str) -> list[str]:
    events = store.load_ledger(engine, "problem_events")
    return events[events["problem_no"] == number].sort_values("time")["step"].tolist()


def problem(engine, number: str) -> pd.Series:
    return store.load_ledger(engine, "problems").set_index("problem_no").loc[number]


# -- Inspections ------------------------------------------------------------------------


def test_inspection_opens_one_problem_per_failed_item(engine):
    raw = dict(date=DAY, place_code="ZKT2000001", **{**OK, "masks": False, "temperature": "否"}, inspector="乡综治办")
    result = R.record_inspection(engine, raw, user="检查员甲", villages=VILLAGES, today=DAY)
    assert result.action == "限期整改" and result.status == "限期整改"
    assert result.failed == ["测温", "佩戴口罩"] and result.problem_nos == ["DC2022-002", "DC2022-003"]
    assert "DC2022-002、DC2022-003" in result.message and "甲村王记超市" in result.message

    inspection = store.load_ledger(engine, "inspections").iloc[0]
    assert inspection["findings"] == "测温不到位、佩戴口罩不到位"
    assert inspection["deadline"] == pd.Timestamp("2022-04-10")  # 限期整改: 3 days
    assert pd.isna(inspection["drug_register"])  # a supermarket has no drug register
    place = store.load_ledger(engine, "places").set_index("code").loc["ZKT2000001"]
    assert place["status"] == "限期整改"
    problems = store.load_ledger(engine, "problems").set_index("problem_no").loc[result.problem_nos]
    assert set(problems["place_code"]) == {"ZKT2000001"} and set(problems["stage"]) == {"发现"}
    assert set(problems["date"]) == {pd.Timestamp(DAY)} and set(problems["team"]) == {"场所检查"}
    assert problems["category"].tolist() == ["场所码", "场所码"]
    assert all(events_of(engine, n) == ["发现"] for n in result.problem_nos)
    audit = store.load_audit(engine)
    assert set(audit[audit["user"] == "检查员甲"]["ledger"]) == {"inspections", "places", "problems", "problem_events"}


def test_a_clean_inspection_opens_nothing_and_a_reinspection_records_its_result(engine):
    failing = dict(date=date(2022, 4, 1), place_code="ZKT2000002", **{**OK, "masks": False}, drug_register=False,
                   action="停业整改")
    assert len(R.record_inspection(engine, failing, user="甲", villages=VILLAGES, today=DAY).problem_nos) == 2
    again = R.record_inspection(engine, dict(date=DAY, place_code="ZKT2000002", **OK, drug_register=True),
                                user="甲", villages=VILLAGES, today=DAY)
    assert again.problem_nos == [] and again.status == "正常营业" and again.action == "无"
    first = store.load_ledger(engine, "inspections").set_index("date").loc[pd.Timestamp("2022-04-01")]
    assert first["recheck_result"] == "2022-04-07 复查合格"


@pytest.mark.parametrize("raw, user, message", [
    (dict(date=DAY, place_code="ZKT2000001", **OK), "", "请先填写操作人"),
    (dict(date=DAY, place_code="ZKT2000009", **OK), "甲", "没有场所码编号为 ZKT2000009 的场所"),
    (dict(date=DAY, place_code="ZKT2000001", **{**OK, "masks": None}), "甲", "检查项未填写：佩戴口罩"),
    (dict(date=DAY, place_code="ZKT2000002", **OK), "甲", "检查项未填写：四类药品实名登记"),
    (dict(date=DAY, place_code="ZKT2000001", **{**OK, "masks": False}, action="无"), "甲", "处理不能为「无」"),
    (dict(date="2022-13-01", place_code="ZKT2000001", **OK), "甲", "检查日期"),
])
def test_refused_inspections_write_nothing(engine, raw, user, message):
    before = counts(engine)
    with pytest.raises(R.ActionError, match=message):
        R.record_inspection(engine, raw, user=user, villages=VILLAGES, today=DAY)
    assert counts(engine) == before


def test_a_second_inspection_the_same_day_is_refused(engine):
    R.record_inspection(engine, dict(date=DAY, place_code="ZKT2000001", **OK), user="甲", villages=VILLAGES, today=DAY)
    before = counts(engine)
    with pytest.raises(R.ActionError, match="已有检查记录"):
        R.record_inspection(engine, dict(date=DAY, place_code="ZKT2000001", **{**OK, "masks": False}),
                            user="甲", villages=VILLAGES, today=DAY)
    assert counts(engine) == before


# -- The loop ---------------------------------------------------------------------------------


def test_a_problem_through_the_whole_loop(engine):
    number = R.open_problem(engine, dict(date=DAY, team="第二督查组", method="暗访", target="乙村", target_type="村",
                                         village="乙村", category="卡点值守", description="夜间无人值守"),
                            user="督查中心", villages=VILLAGES, today=DAY).problem_no
    assert number == "DC2022-002"
    visit = store.load_ledger(engine, "supervisions").iloc[0]
    assert (visit["team"], visit["target"], visit["problems_found"]) == ("第二督查组", "乙村", 1)

    assert R.apply_step(engine, number, "反馈", user="督查中心", day=DAY, unit="乙村党支部", person="张三",
                        deadline=date(2022, 4, 9), note="当日交办").stage == "反馈"
    assert R.apply_step(engine, number, "整改中", user="乙村", day=DAY, note="已排班", done=True).stage == "整改中"
    assert problem(engine, number)["done_date"] == pd.Timestamp(DAY)
    failed = R.recheck(engine, number, False, user="督查中心", day=DAY, who="第二督查组", note="仍无人")
    assert failed.stage == "整改中" and "复查未通过" in failed.message
    assert pd.isna(problem(engine, number)["done_date"])
    assert R.apply_step(engine, number, "整改中", user="乙村", day=DAY, note="加派人员").stage == "整改中"
    assert R.recheck(engine, number, True, user="督查中心", day=DAY, who="第二督查组", evidence="照片").stage == "复查"
    assert R.apply_step(engine, number, "销号", user="指挥部", day=DAY).stage == "销号"
    assert "诫勉" in R.set_accountability(engine, number, "诫勉", user="纪委")

    assert events_of(engine, number) == ["发现", "反馈", "整改中", "复查", "复查未通过", "整改中", "复查", "销号"]
    row = problem(engine, number)
    assert (row["stage"], row["unit"], row["person"], row["rechecker"], row["evidence"], row["accountability"]) == (
        "销号", "乙村党支部", "张三", "第二督查组", "照片", "诫勉")
    assert row["deadline"] == pd.Timestamp("2022-04-09")
    events = store.load_ledger(engine, "problem_events")
    assert events[events["problem_no"] == number]["time"].is_monotonic_increasing
    assert events[(events["problem_no"] == number) & (events["step"] == "反馈")]["unit"].tolist() == ["乙村党支部"]


@pytest.mark.parametrize("step, values, message", [
    ("销号", {}, "须复查通过后才能销号"),
    ("整改中", {"note": "x"}, "下一步只能是：交办"),
    ("复查", {"note": "x"}, "下一步只能是：交办"),
    ("反馈", {"unit": "甲村党支部"}, "责任人、整改时限"),
    ("反馈", {"unit": "甲村党支部", "person": "张三", "deadline": date(2022, 4, 1)}, "早于督查日期"),
])
def test_forbidden_steps_write_nothing(engine, step, values, message):
    before = counts(engine)
    with pytest.raises(R.ActionError, match=message):
        R.apply_step(engine, "DC2022-001", step, user="督查中心", day=DAY, **values)
    assert counts(engine) == before
    assert problem(engine, "DC2022-001")["stage"] == "发现"


def test_a_refusal_in_the_middle_rolls_back_the_steps_before_it(engine):
    before = counts(engine)
    steps = [R.Step("反馈", unit="甲村党支部", person="张三", deadline=date(2022, 4, 9)), R.Step("销号")]
    with pytest.raises(R.ActionError, match="须复查通过后才能销号"):
        R.apply_steps(engine, "DC2022-001", steps, user="督查中心", day=DAY)
    assert counts(engine) == before
    assert problem(engine, "DC2022-001")["stage"] == "发现" and events_of(engine, "DC2022-001") == ["发现"]


def test_unknown_problem_and_accountability_are_refused(engine):
    with pytest.raises(R.ActionError, match="没有编号为 DC2022-099 的问题"):
        R.apply_step(engine, "DC2022-099", "反馈", user="x", day=DAY)
    with pytest.raises(R.ActionError, match="约谈、通报、诫勉"):
        R.set_accountability(engine, "DC2022-001", "开除", user="x")


def test_a_visit_without_problems_counts_as_a_visit(engine):
    assert R.record_supervision(engine, dict(date=DAY, team="第三督查组", target="东环路卡点", target_type="卡点"), [],
                                user="督查中心", villages=VILLAGES, today=DAY).problem_nos == []
    visits = store.load_ledger(engine, "supervisions")
    assert visits[["team", "problems_found"]].values.tolist() == [["第三督查组", 0]]


# -- Supplies ---------------------------------------------------------------------------------


def stock(engine, item="口罩", location="乡政府物资库") -> float:
    from fangkong_lib.domain.supplies import stock_on

    return stock_on(store.load_ledger(engine, "donations"), store.load_ledger(engine, "distributions"), item, location)


def test_issue_then_refusal_beyond_the_stock(engine):
    assert stock(engine) == 70
    voucher = R.issue_supplies(engine, dict(date=DAY, item="口罩", location="乡政府物资库", quantity=25,
                                            recipient_type="村", recipient="甲村", village="甲村", taker="赵六"),
                               user="物资组", villages=VILLAGES, today=DAY).voucher_no
    assert voucher == "CK2022-002" and stock(engine) == 45
    row = store.load_ledger(engine, "distributions").set_index("voucher_no").loc[voucher]
    assert row["unit"] == "盒" and row["location"] == "乡政府物资库"
    before = counts(engine)
    with pytest.raises(R.ActionError, match="结存只有 45盒，不能发放 46盒"):
        R.issue_supplies(engine, dict(date=DAY, item="口罩", location="乡政府物资库", quantity=46),
                         user="物资组", villages=VILLAGES, today=DAY)
    # the other store's 20 boxes are not at this location
    with pytest.raises(R.ActionError, match="卫生院的「口罩」结存只有 20盒"):
        R.issue_supplies(engine, dict(date=DAY, item="口罩", location="卫生院", quantity=21),
                         user="物资组", villages=VILLAGES, today=DAY)
    with pytest.raises(R.ActionError, match="请选择出库仓库"):
        R.issue_supplies(engine, dict(date=DAY, item="口罩", quantity=1), user="物资组", villages=VILLAGES, today=DAY)
    assert counts(engine) == before and stock(engine) == 45


def test_receive_adds_to_the_stock(engine):
    voucher = R.receive_supplies(engine, dict(date=DAY, donor="丙公司", donor_type="单位", item="口罩", unit="盒",
                                              quantity=50, value=1250, location="乡政府物资库",
                                              contact_phone="138 0000 0003"),
                                 user="物资组", today=DAY).voucher_no
    assert voucher == "JZ2022-003" and stock(engine) == 120
    assert store.load_ledger(engine, "donations").set_index("voucher_no").loc[voucher, "contact_phone"] == "13800000003"
    before = counts(engine)
    for raw, message in ((dict(date=DAY, donor="丙", item="口罩", quantity=0, location="库"), "数量「0」：应为正数"),
                         (dict(date=DAY, donor="丙", item="口罩", quantity=5), "请填写存放位置"),
                         (dict(date=DAY, item="口罩", quantity=5, location="库"), "捐赠方"),
                         (dict(voucher_no="JZ2022-001", date=DAY, donor="丙", item="口罩", quantity=5, location="库"),
                          "已登记过")):
        with pytest.raises(R.ActionError, match=message):
            R.receive_supplies(engine, raw, user="物资组", today=DAY)
    assert counts(engine) == before


def test_two_operators_cannot_both_take_the_last_boxes(engine):
    """Two kernels issue the whole stock at the same moment: exactly one wins."""
    start, outcomes = threading.Barrier(2), []

    def issue():
        start.wait()
        try:
            R.issue_supplies(engine, dict(date=DAY, item="口罩", location="乡政府物资库", quantity=70),
                             user="物资组", villages=VILLAGES, today=DAY)
            outcomes.append("ok")
        except Exception as exc:  # a refusal, or anything else: the assertion shows it
            outcomes.append(str(exc))

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[0] == "ok" and "库存不足" in sorted(outcomes)[1], outcomes
    assert stock(engine) == 0
