"""Leads in the store (actions/leads.py), on SQLite and PostgreSQL: a
province push list imported twice, a clinic's fever report saved from a
form, a lead assigned and a lead closing into the returnee workflow with
its control plan, every change audited."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pandas as pd
import pytest

import fangkong_lib.actions as actions
from fangkong_lib import store
from fangkong_lib.domain.leads import lead_status
from fangkong_lib.ingest.normalize import id_check_char

DAY = date(2022, 4, 7)
USER = "张干事"


def idn(n: int) -> str:
    first17 = f"41162519900101{n:03d}"
    return first17 + id_check_char(first17)


HOME, PUSHED, CONTACT, UNKNOWN = idn(11), idn(13), idn(15), idn(17)
SECTIONS = {
    "villages": [dict(code="411625200201", name="柳湾村"), dict(code="411625200202", name="杏园村")],
    "natural_villages": [dict(code="41162520020101", name="王庄", village="柳湾村", cadre="王村干"),
                         dict(code="41162520020201", name="李楼", village="杏园村", cadre="李村干")],
    "grids": [dict(code="CJ01-01-1", village="柳湾村", natural_village="王庄", member="王党员", cadre="赵乡干"),
              dict(code="CJ02-01-1", village="杏园村", natural_village="李楼", member="李党员", cadre="钱乡干")],
    "staff": [dict(staff_no="S0001", name="孙医生", level="村医", village="柳湾村"),
              dict(staff_no="S0002", name="周民警", level="民警/辅警", village="柳湾村"),
              dict(staff_no="S0004", name="王支书", level="党支部书记", village="柳湾村")],
    # someone away from 柳湾村 (found by ID) and someone away from 杏园村 (found by phone)
    "away": [dict(village="柳湾村", grid="CJ01-01-1", name="甲", id_number=PUSHED, phone="13800000013"),
             dict(village="杏园村", grid="CJ02-01-1", name="乙", id_number=idn(19), phone="13800000015")],
}
#: The province's list: 推送批次, 推送时间, 推送来源, 姓名, 身份证号, 手机号, 风险类别, no village.
PUSH_LIST = [
    ("推送批次", "推送时间", "推送来源", "姓名", "身份证号", "手机号", "风险类别"),
    ("TS0406-1", "2022-04-06 09:00", "省平台", "甲", PUSHED, "13800000013", "省外低风险地区"),
    ("TS0406-1", "2022-04-06 09:00", "省平台", "丙", CONTACT, "13800000015", "密切接触者"),
    ("TS0406-1", "2022-04-06 09:00", "省平台", "丁", UNKNOWN, "13800000099", "省外低风险地区"),
]


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    for key, rows in SECTIONS.items():
        store.write_ledger(engine, key, pd.DataFrame(rows), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    yield engine
    engine.dispose()


@pytest.fixture
def push_file(tmp_path):
    path = tmp_path / "省平台推送.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(PUSH_LIST)
    return path


def leads_of(engine) -> pd.DataFrame:
    return store.load_ledger(engine, "leads").set_index("id_number")


def test_a_push_list_makes_a_lead_per_person_and_importing_it_again_changes_nothing(engine, push_file):
    result = actions.import_ledger(engine, "pushes", push_file, user=USER)
    assert (result.inserted, result.rejected) == (3, 0)
    assert any("线索：新增 3 条" in d for d in result.derived)
    leads = leads_of(engine)
    assert set(leads.index) == {PUSHED, CONTACT, UNKNOWN}
    assert (leads.loc[PUSHED, "grid"], leads.loc[PUSHED, "matched_by"]) == ("CJ01-01-1", "身份证号")
    assert (leads.loc[CONTACT, "grid"], leads.loc[CONTACT, "matched_by"]) == ("CJ02-01-1", "手机号")
    assert leads.loc[CONTACT, "deadline"] == pd.Timestamp("2022-04-06 11:00")  # a close contact: 2 h
    assert leads.loc[PUSHED, "deadline"] == pd.Timestamp("2022-04-07 09:00")
    assert pd.isna(leads.loc[UNKNOWN, "grid"]) and pd.isna(leads.loc[UNKNOWN, "village"])
    status = lead_status(leads.reset_index(), datetime(2022, 4, 6, 12, 0)).set_index("id_number")["status"]
    assert status.to_dict() == {PUSHED: "待核查", CONTACT: "已逾期", UNKNOWN: "待分派"}
    audit = store.load_audit(engine, "leads")
    assert len(audit) == 3 and set(audit["user"]) == {USER}

    again = actions.import_ledger(engine, "pushes", push_file, user=USER)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert len(store.load_ledger(engine, "leads")) == 3 and len(store.load_audit(engine, "leads")) == 3
    assert actions.sync_leads(engine, user=USER).inserted == 0


def test_a_lead_assigned_then_closed_as_returned_registers_the_person_with_a_plan(engine, push_file):
    actions.import_ledger(engine, "pushes", push_file, user=USER)
    no = leads_of(engine).loc[UNKNOWN, "lead_no"]
    with pytest.raises(actions.ActionError, match="网格「CJ09-09-9」：不是本乡的网格编号"):
        actions.assign_lead(engine, no, {"grid": "CJ09-09-9"}, user=USER)
    message = actions.assign_lead(engine, no, {"grid": "CJ02-01-1"}, user=USER)
    assert "杏园村 CJ02-01-1" in message and "钱乡干" in message

    message = actions.verify_lead(engine, no, {"outcome": "已核实在本地", "verified_at": "2022-04-06 15:30",
                                               "actual_arrival": "2022-04-06", "origin": "浙江省杭州市"}, user=USER)
    assert "按时办结" in message and "已登记报备：丁" in message and "管控措施：三天两检" in message
    person = store.load_ledger(engine, "returnees").set_index("id_number").loc[UNKNOWN]
    assert (person["village"], person["grid"], person["actual_arrival"]) == ("杏园村", "CJ02-01-1",
                                                                             pd.Timestamp("2022-04-06"))
    assert person["risk_category"] == "省外低风险地区" and no in person["note"]
    control = store.load_ledger(engine, "controls").set_index("id_number").loc[UNKNOWN]
    assert (control["measure"], control["start_date"]) == ("三天两检", pd.Timestamp("2022-04-06"))
    lead = leads_of(engine).loc[UNKNOWN]
    assert (lead["outcome"], lead["verifier"], lead["returnee"]) == ("已核实在本地", USER, True)
    push = store.load_ledger(engine, "pushes").set_index("id_number").loc[UNKNOWN]
    assert (push["result"], push["verified_at"]) == ("已核实在本地", pd.Timestamp("2022-04-06 15:30"))
    # closed leads stay closed: no second verification, no reassignment
    with pytest.raises(actions.ActionError, match="已办结"):
        actions.verify_lead(engine, no, {"outcome": "无法联系"}, user=USER)
    assert actions.sync_leads(engine, user=USER).updated == 0
    steps = store.load_audit(engine, "leads")
    assert steps["action"].tolist() == ["insert", "insert", "insert", "update", "update"]


def test_closing_a_lead_is_checked_and_a_late_one_says_so(engine, push_file):
    actions.import_ledger(engine, "pushes", push_file, user=USER)
    no = leads_of(engine).loc[CONTACT, "lead_no"]
    with pytest.raises(actions.ActionError, match="核查结果"):
        actions.verify_lead(engine, no, {"outcome": "办完了"}, user=USER)
    with pytest.raises(actions.ActionError, match="早于线索接收时间"):
        actions.verify_lead(engine, no, {"outcome": "已落实管控", "verified_at": "2022-04-06 08:00"}, user=USER)
    message = actions.verify_lead(engine, no, {"outcome": "已落实管控", "verified_at": "2022-04-06 12:00"},
                                  user=USER)
    assert "逾期办结（超过时限 1.0 小时）" in message
    table = lead_status(store.load_ledger(engine, "leads"), datetime(2022, 4, 7, 23, 59)).set_index("id_number")
    assert table.loc[CONTACT, "status"] == "逾期办结"


def test_a_fever_report_saved_from_a_form_raises_a_lead_closed_by_its_negative_test(engine):
    report = dict(reported_at="2022-04-07 10:20", clinic="城郊乡卫生院", name="甲", id_number=PUSHED,
                  phone="13800000013", temperature="38.1", symptoms="咽痛")
    message = actions.save_record(engine, "fever_reports", report, user=USER)
    assert "线索：新增 1 条" in message
    lead = leads_of(engine).loc[PUSHED]
    assert (lead["source"], lead["grid"], lead["deadline"]) == ("哨点发热", "CJ01-01-1",
                                                                pd.Timestamp("2022-04-07 23:59"))
    actions.save_record(engine, "fever_reports", dict(report, test_time="2022-04-07 13:00", test_result="阴性"),
                        user=USER)
    lead = leads_of(engine).loc[PUSHED]
    assert (lead["outcome"], lead["verified_at"]) == ("已检测阴性", pd.Timestamp("2022-04-07 13:00"))
    assert len(store.load_ledger(engine, "leads")) == 1


def test_a_lead_recorded_by_hand_is_matched_and_validated(engine):
    with pytest.raises(actions.ActionError, match="身份证号"):
        actions.add_lead(engine, {"source": "群众反映", "name": "戊", "id_number": "411625199001010000"}, user=USER)
    message = actions.add_lead(engine, {"source": "群众反映", "name": "乙", "id_number": idn(19),
                                        "received_at": "2022-04-07 08:00", "detail": "邻居反映其从外地返回"},
                               user=USER)
    assert "杏园村 CJ02-01-1" in message and "截止 04-08 08:00" in message


def test_export_leads_lists_every_lead_with_its_status_at_a_moment(engine, push_file, tmp_path, migrated_db_url, capsys):
    from fangkong_lib.cli import main

    actions.import_ledger(engine, "pushes", push_file, user=USER)
    out = tmp_path / "线索.csv"

    def exported(*extra) -> dict[str, dict]:
        assert main(["export", "leads", str(out), "--db", migrated_db_url, *extra]) == 0
        with out.open(encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["线索编号", "来源", "姓名", "身份证号", "村", "网格", "接收时间", "截止时间", "状态",
                                 "核查结果"]
        return {r["姓名"]: r for r in rows}

    at_ten = exported("--at", "2022-04-06 10:00")
    assert {k: r["状态"] for k, r in at_ten.items()} == {"甲": "待核查", "丙": "待核查", "丁": "待分派"}
    assert at_ten["丙"]["截止时间"] == "2022-04-06 11:00:00" and "*" in at_ten["甲"]["身份证号"]
    assert exported("--at", "2022-04-06 12:00")["丙"]["状态"] == "已逾期"  # the close contact's 2 h are over
    unmasked = exported("--unmasked")  # default: the data's now (2022-04-07 23:59)
    assert unmasked["甲"]["身份证号"] == PUSHED and unmasked["甲"]["状态"] == "已逾期"
    assert main(["export", "leads", str(out), "--db", migrated_db_url, "--at", "4月6日"]) == 2
    assert "时点" in capsys.readouterr().err
