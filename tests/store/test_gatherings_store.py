"""Gatherings and publicity on SQLite and PostgreSQL: a report and its
approval steps (audited, refused out of order or when the rules are broken),
the joint team's log, an import of gatherings that break the rules (imported
and named) and the 不符合项 column of the export; publicity entered through
the form's validation, the same as an import."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

import fangkong_lib.actions as A
from fangkong_lib import store
from fangkong_lib.outputs.exports import export_ledger
from fangkong_lib.outputs.reports import import_with_report

DAY = date(2022, 4, 7)
USER = "测试员"


@pytest.fixture
def engine(migrated_db_url):
    """Two villages, one key place; the data's today is 2022-04-07."""
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    store.write_ledger(engine, "villages", pd.DataFrame([dict(code="411625200201", name="甲村", households=100),
                                                          dict(code="411625200202", name="乙村", households=80)]),
                       user="setup")
    store.write_ledger(engine, "places", pd.DataFrame([dict(code="ZKT2000001", name="甲村王记超市", category="超市",
                                                            village="甲村", status="停业整改")]), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    yield engine
    engine.dispose()


def wedding(**changes) -> dict:
    row = dict(host="王大", phone="13800000001", village="甲村", kind="红事", date=date(2022, 4, 10),
               place="王大家中", expected_people=50, tables=5, pledge=True, supervisor="张书记",
               reported_at=datetime(2022, 4, 7, 9, 0))
    return row | changes


def approval_of(engine, host: str) -> dict:
    frame = store.load_ledger(engine, "gatherings")
    return frame[frame["host"] == host].iloc[0].to_dict()


def test_a_report_goes_village_then_township_each_step_audited(engine):
    result = A.report_gathering(engine, wedding(), user=USER)
    assert result.breaches == [] and result.approval == "待审批"
    key = dict(host="王大", date=date(2022, 4, 10), kind="红事")
    with pytest.raises(A.ActionError, match="须先经村审批"):
        A.review_gathering(engine, key, "乡", approve=True, user="乡领导")
    assert approval_of(engine, "王大")["approval"] == "待审批"
    assert "待乡里审批" in A.review_gathering(engine, key, "村", approve=True, user="张书记").message
    done = A.review_gathering(engine, key, "乡", approve=True, user="乡领导")
    assert done.approval == "乡已审批" and "审批完成" in done.message
    row = approval_of(engine, "王大")
    assert (row["approval"], row["village_reviewer"], row["township_reviewer"]) == ("乡已审批", "张书记", "乡领导")
    audit = store.load_audit(engine, "gatherings")
    steps = [a for a in audit.to_dict("records") if a["action"] == "update"]
    assert [s["user"] for s in steps] == ["张书记", "乡领导"]
    with pytest.raises(A.ActionError, match="无需再审批"):
        A.review_gathering(engine, key, "乡", approve=True, user="乡领导")


def test_a_report_breaking_the_rules_is_saved_named_and_cannot_be_approved(engine):
    result = A.report_gathering(engine, wedding(host="李二", date=date(2022, 4, 9), expected_people=60, tables=6),
                                user=USER)
    assert result.breaches == ["报备不足3天", "人数超过50人"]
    assert "不符合项：报备不足3天、人数超过50人" in result.message
    key = dict(host="李二", date=date(2022, 4, 9), kind="红事")
    with pytest.raises(A.ActionError, match="人数超过50人.*不能批准"):
        A.review_gathering(engine, key, "村", approve=True, user="张书记")
    with pytest.raises(A.ActionError, match="须写明理由"):
        A.review_gathering(engine, key, "村", approve=False, user="张书记")
    A.review_gathering(engine, key, "村", approve=False, reason="人数超标，劝导缓办", user="张书记")
    row = approval_of(engine, "李二")
    assert row["approval"] == "不予批准" and row["refusal"] == "村：人数超标，劝导缓办"


def test_the_reporter_cannot_approve_and_a_changed_report_starts_again(engine):
    A.report_gathering(engine, wedding(approval="乡已审批", township_reviewer="我自己"), user=USER)
    assert approval_of(engine, "王大")["approval"] == "待审批"
    assert approval_of(engine, "王大")["township_reviewer"] is None
    key = dict(host="王大", date=date(2022, 4, 10), kind="红事")
    A.review_gathering(engine, key, "村", approve=True, user="张书记")
    again = A.report_gathering(engine, wedding(expected_people=40, tables=4), user=USER)
    assert again.approval == "待审批" and "须重新审批" in again.message


def test_invalid_input_is_refused_and_nothing_written(engine):
    with pytest.raises(A.ActionError, match="不是本乡的村"):
        A.report_gathering(engine, wedding(village="外村"), user=USER)
    with pytest.raises(A.ActionError, match="报备时间早于去世时间"):
        A.report_gathering(engine, wedding(kind="白事", deceased_at=datetime(2022, 4, 7, 10)), user=USER)
    assert store.count_rows(engine, "gatherings") == 0


def test_the_joint_team_logs_against_a_gathering_and_a_place(engine):
    A.report_gathering(engine, wedding(), user=USER)
    message = A.log_enforcement(engine, dict(unit="综治办", target_type="红白事", host="王大", event_date=date(2022, 4, 10),
                                             kind="红事", action="劝导", time=datetime(2022, 4, 7, 14)), user=USER)
    assert "王大 红事 2022-04-10" in message
    A.log_enforcement(engine, dict(unit="派出所", target_type="重点场所", place_code="ZKT2000001", action="责令停业",
                                   time=datetime(2022, 4, 7, 15)), user=USER)
    with pytest.raises(A.ActionError, match="没有场所码编号为 ZKT9"):
        A.log_enforcement(engine, dict(unit="派出所", target_type="重点场所", place_code="ZKT9", action="警告"), user=USER)
    with pytest.raises(A.ActionError, match="请选择已报备的红白事"):
        A.log_enforcement(engine, dict(unit="村", target_type="红白事", host="无此人", event_date=date(2022, 4, 10),
                                       kind="红事", action="劝导"), user=USER)
    log = store.load_ledger(engine, "enforcements")
    assert log["target"].tolist() == ["王大 红事 2022-04-10", "甲村王记超市"]
    assert log["village"].tolist() == ["甲村", "甲村"]


def test_an_import_keeps_rows_breaking_the_rules_names_them_and_the_export_says_so(engine, tmp_path):
    rows = pd.DataFrame([
        {"事主": "王大", "村": "甲村", "类型": "红事", "日期": "2022-04-10", "预计人数": 50, "桌数": 5, "承诺书": "是",
         "报备时间": "2022-04-07 09:00"},
        {"事主": "李二", "村": "甲村", "类型": "红事", "日期": "2022-04-09", "预计人数": 60, "桌数": 5, "承诺书": "是",
         "报备时间": "2022-04-07 09:00"},
        {"事主": "赵三", "村": "乙村", "类型": "白事", "日期": "2022-04-08", "预计人数": 30, "桌数": 2, "承诺书": "是",
         "报备时间": "2022-04-07 09:00", "去世时间": "2022-04-05 20:00", "村干部全程监管": "否", "分餐": "是"},
    ])
    path = tmp_path / "红白事.csv"
    rows.to_csv(path, index=False, encoding="utf-8-sig")
    report = tmp_path / "报告.xlsx"
    result = import_with_report(engine, "gatherings", path, user=USER, report=report, today=DAY)
    assert (result.inserted, result.rejected) == (3, 0)
    assert result.flagged == [(3, "李二 红事 2022-04-09", "报备不足3天、人数超过50人、每桌超过10人"),
                              (4, "赵三 白事 2022-04-08", "超过24小时报备、无村干部全程监管")]
    assert any("2 行不符合防控规定" in w for w in result.warnings)
    sheet = openpyxl.load_workbook(report)["不符合防控规定"]
    assert [c.value for c in sheet["C"]][2:] == ["报备不足3天、人数超过50人、每桌超过10人", "超过24小时报备、无村干部全程监管"]
    out = tmp_path / "export.csv"
    export_ledger(engine, "gatherings", out)
    exported = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert dict(zip(exported["事主"], exported["不符合项"])) == {
        "王大": "", "李二": "报备不足3天、人数超过50人、每桌超过10人", "赵三": "超过24小时报备、无村干部全程监管"}
    # the exported file goes back in: 不符合项 is computed, not read
    again = import_with_report(engine, "gatherings", out, user=USER, today=DAY)
    assert again.unchanged == 3 and not any("已忽略" in w for w in again.warnings)
    xlsx = tmp_path / "export.xlsx"
    export_ledger(engine, "gatherings", xlsx)
    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[2]]
    assert header[-1] == "不符合项"


def test_publicity_is_checked_the_same_on_the_form_and_on_import(engine, tmp_path):
    base = dict(date=DAY, village="甲村", channel="宣传单", topic="文明祭祀", quantity=120)
    with pytest.raises(A.ActionError, match="须填写覆盖户数"):
        A.save_record(engine, "publicity", base, user=USER)
    with pytest.raises(A.ActionError, match="不是规定的宣传主题"):
        A.save_record(engine, "publicity", base | dict(topic="随便说说", households=100), user=USER)
    assert "已新增" in A.save_record(engine, "publicity", base | dict(households=100), user=USER)
    path = tmp_path / "宣传.csv"
    pd.DataFrame([
        {"日期": "2022-04-07", "村": "乙村", "宣传渠道": "微信群", "宣传主题": "非必要不返乡", "数量": 3, "微信群数": 2,
         "群成员数": 75},
        {"日期": "2022-04-07", "村": "乙村", "宣传渠道": "微信群", "宣传主题": "随便说说", "数量": 3, "微信群数": 2,
         "群成员数": 75},
        {"日期": "2022-04-07", "村": "乙村", "宣传渠道": "入户宣传", "宣传主题": "文明祭祀", "数量": 20},
    ]).to_csv(path, index=False, encoding="utf-8-sig")
    result = A.import_ledger(engine, "publicity", path, user=USER, today=DAY)
    assert (result.inserted, result.rejected) == (1, 2)
    reasons = ["；".join(r.reasons) for r in result.rejected_rows]
    assert "不是规定的宣传主题" in reasons[0] and "须填写覆盖户数" in reasons[1]
