"""Key places: compliance from the latest inspection, status, overdue
re-inspection and filters (pure functions, no database)."""

from datetime import date

import pandas as pd
import pytest

from fangkong_lib.domain import places as P

DAY = date(2022, 4, 7)
OK = dict(code_posted=True, scan_enforced=True, temperature=True, masks=True, crowd_limit=True,
          disinfection_log=True, staff_health_log=True, drug_register=None)

PLACES = pd.DataFrame([
    dict(code="A", name="甲超市", category="超市", village="甲村", manager="张三", manager_phone="13800000001",
         code_posted=True, status="正常营业", lon=115.1, lat=33.6),
    dict(code="B", name="乙药店", category="药店", village="甲村", manager="李四", manager_phone="13800000002",
         code_posted=True, status="正常营业", lon=115.2, lat=33.6),
    dict(code="C", name="丙餐馆", category="餐饮", village="乙村", manager="王五", manager_phone="13800000003",
         code_posted=False, status="停业整改", lon=115.3, lat=33.6),  # never inspected: the ledger's status stands
    dict(code="D", name="丁工厂", category="工厂", village="乙村", manager="赵六", manager_phone="13800000004",
         code_posted=True, status="正常营业", lon=115.4, lat=33.6),
])


def _inspection(code, day, action="无", deadline=None, **checks):
    return dict(date=pd.Timestamp(day), place_code=code, **{**OK, **checks}, action=action,
                deadline=pd.Timestamp(deadline) if deadline else pd.NaT, findings="")


INSPECTIONS = pd.DataFrame([
    # A: ordered to fix on 04-01 (deadline 04-04), not re-inspected: overdue.
    _inspection("A", "2022-03-20"),
    _inspection("A", "2022-04-01", "限期整改", "2022-04-04", masks=False, temperature=False),
    # B: a pharmacy, drug register missing on 04-05, fixed on the spot.
    _inspection("B", "2022-04-05", "现场整改", drug_register=False),
    # D: closed on 04-02 (no deadline: 3 days), re-inspected and passed on 04-06.
    _inspection("D", "2022-04-02", "停业整改", code_posted=False, scan_enforced=False, masks=False),
    _inspection("D", "2022-04-06"),
    # an inspection after the day looked at does not count
    _inspection("A", "2022-04-09"),
])


@pytest.fixture
def table():
    return P.place_table(PLACES, INSPECTIONS, DAY).set_index("code")


def test_status_comes_from_the_latest_inspection(table):
    assert table["status"].to_dict() == {"A": "限期整改", "B": "正常营业", "C": "停业整改", "D": "正常营业"}
    assert table.loc["D", "last_date"] == pd.Timestamp("2022-04-06")
    assert table.loc["A", "inspections"] == 2 and table.loc["C", "inspections"] == 0


def test_compliance_per_item_from_the_latest_inspection(table):
    assert table.loc["A", "failed"] == ["测温", "佩戴口罩"]
    assert table.loc["B", "failed"] == ["四类药品实名登记"]
    assert table.loc["D", "failed"] == []  # the re-inspection passed
    assert table.loc["A", "masks"] == False and table.loc["A", "crowd_limit"] == True  # noqa: E712
    # the drug register applies to pharmacies and clinics only
    assert pd.isna(table.loc["A", "drug_register"]) and table.loc["B", "drug_register"] == False  # noqa: E712
    # never inspected: the ledger's 场所码张贴, nothing else known
    assert table.loc["C", "code_status"] == "未张贴" and pd.isna(table.loc["C", "masks"])


def test_overdue_recheck(table):
    assert table.loc["A", "recheck_due"] == pd.Timestamp("2022-04-04")
    assert table["recheck_overdue"].to_dict() == {"A": True, "B": False, "C": False, "D": False}
    # on the deadline itself it is not overdue yet
    on_deadline = P.place_table(PLACES, INSPECTIONS, date(2022, 4, 4)).set_index("code")
    assert not on_deadline.loc["A", "recheck_overdue"]
    # closed without a deadline: 3 days to re-inspect
    before = P.place_table(PLACES, INSPECTIONS, date(2022, 4, 5)).set_index("code")
    assert before.loc["D", "status"] == "停业整改"
    assert before.loc["D", "recheck_due"] == pd.Timestamp("2022-04-05") and not before.loc["D", "recheck_overdue"]


@pytest.mark.parametrize("filters, codes", [
    ({}, {"A", "B", "C", "D"}),
    ({"village": "甲村"}, {"A", "B"}),
    ({"category": "药店"}, {"B"}),
    ({"failed_item": "masks"}, {"A"}),
    ({"failed_item": "drug_register"}, {"B"}),
    ({"failed_item": "code_posted"}, {"C"}),
    ({"status": "停业整改"}, {"C"}),
    ({"overdue": True}, {"A"}),
    ({"village": "乙村", "overdue": True}, set()),
    ({"query": "丁工"}, {"D"}),
])
def test_filters(filters, codes):
    full = P.place_table(PLACES, INSPECTIONS, DAY)
    assert set(P.filter_places(full, **filters)["code"]) == codes


def test_unknown_checklist_item_is_refused():
    with pytest.raises(ValueError, match="未知检查项"):
        P.filter_places(P.place_table(PLACES, INSPECTIONS, DAY), failed_item="nope")


def test_kpis(table):
    kpis = P.summarize_places(table.reset_index(), INSPECTIONS, DAY)
    assert kpis == {"places": 4, "正常营业": 2, "限期整改": 1, "停业整改": 1, "code_missing": 1,
                    "recheck_overdue": 1, "never_inspected": 1, "inspected_7d": 4}


def test_checklist_and_actions():
    assert list(P.CHECKLIST.values()) == ["场所码张贴", "扫码查验落实", "测温", "佩戴口罩", "限流", "消毒登记",
                                          "员工健康登记", "四类药品实名登记"]
    assert "drug_register" in P.applicable_items("诊所") and "drug_register" not in P.applicable_items("超市")
    assert P.failed_items({**OK, "masks": False, "drug_register": False}, "超市") == ["masks"]
    assert [P.suggest_action(["x"] * n) for n in range(4)] == ["无", "现场整改", "限期整改", "停业整改"]


def test_one_problem_per_failed_item_linked_to_place_and_inspection():
    place = PLACES.iloc[1].to_dict()
    rows = P.inspection_problems(place, {"date": date(2022, 4, 5), "deadline": None}, ["drug_register", "masks"])
    assert [r["category"] for r in rows] == ["台账资料", "场所码"]
    assert {r["place_code"] for r in rows} == {"B"} and {r["date"] for r in rows} == {date(2022, 4, 5)}
    assert {r["deadline"] for r in rows} == {date(2022, 4, 8)}
    assert all(r["stage"] == "发现" and r["target_type"] == "场所" and r["person"] == "李四" for r in rows)
