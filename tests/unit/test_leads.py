"""Leads (线索核查): deadlines from the rules file at their boundaries,
matching by ID, by phone and not at all, the leads each source raises, and
deriving them again changing nothing (domain/leads.py, policy/leads.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from fangkong_lib.domain.leads import (
    data_now, lead_status, leads_by_source, match_people, plan_sync, source_leads, summarize_leads,
)
from fangkong_lib.ingest.normalize import id_check_char
from fangkong_lib.ledgers import get_ledger
from fangkong_lib.policy import PolicyError
from fangkong_lib.policy.leads import LEAD_POLICY, load_lead_policy

MINUTE = timedelta(minutes=1)
RECEIVED = datetime(2022, 4, 5, 9, 30)


def idn(n: int) -> str:
    first17 = f"41162519900101{n:03d}"
    return first17 + id_check_char(first17)


def frame(key: str, rows: list[dict]) -> pd.DataFrame:
    """Rows as the store returns them: every column of the ledger, its dtypes."""
    from fangkong_lib.store import coerce_frame

    ledger = get_ledger(key)
    return coerce_frame(ledger, pd.DataFrame(rows, columns=ledger.columns))


def lead(source: str, risk: str | None = None, **extra) -> dict:
    return {**dict(lead_no="X1", source=source, received_at=RECEIVED, name="甲", id_number=idn(1),
                   phone="13812345678", risk_category=risk, village="柳湾村", grid="CJ01-01-1"), **extra}


# -- Deadlines, from the rules file, at their boundaries ----------------------------------------


@pytest.mark.parametrize("source, risk, deadline", [
    ("大数据推送", "省外低风险地区", RECEIVED + timedelta(hours=24)),   # push: 24 h to verify
    ("大数据推送", "密切接触者", RECEIVED + timedelta(hours=2)),       # a pushed close contact: 2 h to control
    ("哨点购药", None, RECEIVED + timedelta(hours=72)),               # drug buyer: a test within 72 h
    ("卡口", None, RECEIVED + timedelta(hours=24)),                   # unregistered arrival: 24 h
    ("哨点发热", None, datetime(2022, 4, 5, 23, 59)),                 # fever report: tested the same day
])
def test_every_deadline_at_its_boundary(source, risk, deadline):
    policy = load_lead_policy()
    assert policy.deadline(source, risk, RECEIVED) == deadline
    row = lead(source, risk, deadline=deadline)
    open_ = frame("leads", [row])
    assert lead_status(open_, deadline).iloc[0][["status", "overdue"]].tolist() == ["待核查", False]
    assert lead_status(open_, deadline + MINUTE).iloc[0][["status", "overdue"]].tolist() == ["已逾期", True]
    on_time = frame("leads", [dict(row, outcome="已核实不在本地", verified_at=deadline)])
    assert lead_status(on_time, deadline + timedelta(days=3)).iloc[0]["status"] == "已办结"
    late = frame("leads", [dict(row, outcome="已核实不在本地", verified_at=deadline + MINUTE)])
    assert lead_status(late, deadline + timedelta(days=3)).iloc[0][["status", "overdue"]].tolist() == ["逾期办结", True]
    # seen before it was closed, a lead closed later is still open
    assert lead_status(late, deadline).iloc[0]["status"] == "待核查"


def test_a_lead_without_a_grid_waits_for_assignment_and_still_runs_late():
    row = lead("大数据推送", deadline=RECEIVED + timedelta(hours=24), grid=None)
    seen = lead_status(frame("leads", [row]), RECEIVED + timedelta(hours=30)).iloc[0]
    assert (seen["status"], seen["overdue"], seen["hours_left"]) == ("待分派", True, -6.0)
    assert lead_status(frame("leads", [row]), RECEIVED - MINUTE).empty  # not received yet


def test_the_rules_file_is_checked_and_errors_name_the_entry(tmp_path):
    text = LEAD_POLICY.read_text(encoding="utf-8")
    bad = tmp_path / "leads.toml"
    bad.write_text(text.replace('source = "卡口"', 'source = "路口"'), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"leads.toml：rules.checkpoint 来源 '路口' 未知"):
        load_lead_policy(bad)
    bad.write_text(text.replace('hours = 72\ntask', 'hours = 72\nend_of_day = true\ntask'), encoding="utf-8")
    with pytest.raises(PolicyError, match="rules.drug_buyer 应有且只有 hours 或 end_of_day"):
        load_lead_policy(bad)
    bad.write_text(text.replace("[rules.public_report]", "[rules.public_report]\nrisk_categories = ['次密接']"),
                   encoding="utf-8")
    with pytest.raises(PolicyError, match="来源「群众反映」应有且只有一条不限风险类别的时限"):
        load_lead_policy(bad)
    bad.write_text(text.replace("hours = 2\n", "hours = -2\n"), encoding="utf-8")
    with pytest.raises(PolicyError, match="rules.push_close_contact hours -2"):
        load_lead_policy(bad)


def test_the_data_s_now():
    assert data_now(datetime(2022, 4, 7).date(), datetime(2026, 1, 1, 8, 0)) == datetime(2022, 4, 7, 23, 59)
    assert data_now(datetime(2026, 1, 1).date(), datetime(2026, 1, 1, 8, 5, 33)) == datetime(2026, 1, 1, 8, 5)


# -- Matching ---------------------------------------------------------------------------------------

LEDGERS = {
    "returnees": frame("returnees", [dict(id_number=idn(1), phone="13800000001", village="柳湾村", grid="CJ01-01-1")]),
    "controls": frame("controls", []),
    "away": frame("away", [dict(id_number=idn(2), phone="13800000002", village="杏园村", grid="CJ02-01-1"),
                           dict(id_number=idn(1), phone="13800000009", village="杏园村", grid="CJ02-01-1")]),
    "grids": frame("grids", [dict(code="CJ01-01-1", village="柳湾村", cadre="赵乡干", member="王党员"),
                             dict(code="CJ02-01-1", village="杏园村", cadre="钱乡干", member="李党员")]),
}


def test_matching_by_id_first_then_by_phone_else_nothing():
    people = pd.DataFrame({
        "id_number": [idn(1), idn(3), idn(4), idn(5)],
        "phone": ["13800000002", "13800000002", "13899999999", None],
    })
    found = match_people(people, LEDGERS)
    # the ID wins over a phone that belongs to someone else, and the returnee ledger over the away one
    assert found.iloc[0].tolist() == ["柳湾村", "CJ01-01-1", "身份证号"]
    assert found.iloc[1].tolist() == ["杏园村", "CJ02-01-1", "手机号"]
    assert found.iloc[2].tolist() == [None, None, None]
    assert found.iloc[3].tolist() == [None, None, None]


# -- What the sources raise -----------------------------------------------------------------------

POLICY = load_lead_policy()
VILLAGES = ["柳湾村", "杏园村"]


def _checkpoints():
    base = dict(checkpoint="东环路卡点", name="丙", phone="13811112222", destination="柳湾村", outcome="放行")
    return frame("checkpoint_logs", [
        dict(base, time=RECEIVED, id_number=idn(3), pre_registered=False),
        dict(base, time=RECEIVED, id_number=idn(4), pre_registered=True),            # registered: no lead
        dict(base, time=RECEIVED, id_number=idn(5), pre_registered=False, outcome="劝返"),  # sent back
        dict(base, time=RECEIVED, id_number=idn(6), pre_registered=False, destination="外乡某村"),  # passing by
    ])


def test_a_checkpoint_lead_is_an_unregistered_traveller_heading_into_the_township():
    leads = source_leads({"checkpoint_logs": _checkpoints()}, POLICY, VILLAGES)
    assert leads["id_number"].tolist() == [idn(3)]
    assert (leads.iloc[0]["source"], leads.iloc[0]["src_village"]) == ("卡口", "柳湾村")


def test_a_drug_buyer_with_a_recent_negative_test_raises_no_lead():
    buyers = frame("drug_buyers", [
        dict(date=pd.Timestamp("2022-04-05"), outlet="仁和药店", name=n, id_number=idn(k), phone="13811112222",
             drug="布洛芬", drug_class="退热") for k, n in ((1, "甲"), (2, "乙"), (3, "丙"))])
    tests = frame("tests", [
        dict(id_number=idn(1), sample_date=pd.Timestamp("2022-04-02"), result="阴性"),  # 3 days before: within 72 h
        dict(id_number=idn(2), sample_date=pd.Timestamp("2022-04-01"), result="阴性"),  # too old
        dict(id_number=idn(3), sample_date=pd.Timestamp("2022-04-04"), result="待出"),  # no result yet
    ])
    leads = source_leads({"drug_buyers": buyers, "tests": tests}, POLICY, VILLAGES)
    assert sorted(leads["id_number"]) == [idn(2), idn(3)]


def test_a_source_row_s_own_outcome_closes_its_lead():
    pushes = frame("pushes", [
        dict(batch="TS0405-1", pushed_at=RECEIVED, name="甲", id_number=idn(1), phone="13811112222",
             result="已核实不在本地", verified_at=RECEIVED + timedelta(hours=3), verifier="赵乡干"),
        dict(batch="TS0405-1", pushed_at=RECEIVED, name="乙", id_number=idn(2), phone="13811112223",
             result="待核查", village="杏园村")])
    fevers = frame("fever_reports", [dict(reported_at=RECEIVED, clinic="城郊乡卫生院", name="丁", id_number=idn(7),
                                          phone="13811112224", temperature=38.2, test_result="阴性",
                                          test_time=RECEIVED + timedelta(hours=2))])
    leads = source_leads({"pushes": pushes, "fever_reports": fevers}, POLICY, VILLAGES).set_index("id_number")
    assert leads.loc[idn(1), "outcome"] == "已核实不在本地"
    assert leads.loc[idn(2), "outcome"] is None and leads.loc[idn(2), "src_village"] == "杏园村"
    assert (leads.loc[idn(7), "outcome"], leads.loc[idn(7), "source"]) == ("已检测阴性", "哨点发热")


def _ledgers(**extra):
    return {**LEDGERS, "pushes": frame("pushes", [
        dict(batch="TS0405-1", pushed_at=RECEIVED, name="甲", id_number=idn(1), phone="13800000001"),
        dict(batch="TS0405-1", pushed_at=RECEIVED, name="乙", id_number=idn(8), phone="13800000002",
             risk_category="密切接触者"),
        dict(batch="TS0405-1", pushed_at=RECEIVED, name="戊", id_number=idn(9), phone="13899999999", village="杏园村"),
    ]), **extra}


def test_new_leads_are_matched_given_deadlines_and_responsible_people_and_deriving_again_changes_nothing():
    ledgers = _ledgers()
    candidates = source_leads(ledgers, POLICY, VILLAGES)
    plan = plan_sync(candidates, frame("leads", []), ledgers, POLICY)
    rows = {r["id_number"]: r for r in plan.new}
    assert (rows[idn(1)]["grid"], rows[idn(1)]["matched_by"], rows[idn(1)]["returnee"]) == ("CJ01-01-1", "身份证号", True)
    assert rows[idn(1)]["assignee"] == "下沉乡干部赵乡干、联户党员王党员"
    assert rows[idn(8)]["matched_by"] == "手机号" and rows[idn(8)]["deadline"] == RECEIVED + timedelta(hours=2)
    # found nowhere: the village the push names, no grid: waits to be assigned
    assert (rows[idn(9)]["village"], rows[idn(9)]["grid"], rows[idn(9)]["matched_by"]) == ("杏园村", None, "来源登记")
    stored = frame("leads", plan.new)
    assert plan_sync(candidates, stored, ledgers, POLICY).empty
    table = lead_status(stored, RECEIVED + timedelta(hours=3))
    assert summarize_leads(table, RECEIVED)["late:大数据推送"] == 1  # the close contact, 2 h
    assert leads_by_source(table).loc["大数据推送", ["线索", "未办结", "已逾期", "待分派"]].tolist() == [3, 3, 1, 1]


def test_a_lead_for_someone_under_control_is_linked_and_closed_as_such():
    controls = frame("controls", [dict(id_number=idn(1), village="柳湾村", grid="CJ01-01-1", measure="居家隔离",
                                       start_date=pd.Timestamp("2022-04-01"), end_date=pd.Timestamp("2022-04-14"))])
    ledgers = _ledgers(controls=controls)
    plan = plan_sync(source_leads(ledgers, POLICY, VILLAGES), frame("leads", []), ledgers, POLICY)
    mine = next(r for r in plan.new if r["id_number"] == idn(1))
    assert (mine["outcome"], mine["returnee"], mine["verified_at"]) == ("已在管控中", True, RECEIVED)
    assert sum(r["id_number"] == idn(1) for r in plan.new) == 1


def test_a_stored_open_lead_takes_a_grid_found_since_and_its_source_s_outcome_but_keeps_what_staff_wrote():
    ledgers = _ledgers()
    candidates = source_leads(ledgers, POLICY, VILLAGES)
    stored = frame("leads", plan_sync(candidates, frame("leads", []), ledgers, POLICY).new)
    # the unmatched person registers; the push ledger records a verification of another
    later = _ledgers(returnees=pd.concat([LEDGERS["returnees"], frame("returnees", [
        dict(id_number=idn(9), phone="13899999999", village="杏园村", grid="CJ02-01-1")])], ignore_index=True))
    later["pushes"].loc[1, ["result", "verified_at", "verifier"]] = ["已落实管控", RECEIVED + timedelta(hours=1), "钱乡干"]
    stored.loc[stored["id_number"] == idn(1), ["outcome", "verifier"]] = ["信息有误", "王干事"]
    plan = plan_sync(source_leads(later, POLICY, VILLAGES), stored, later, POLICY)
    changes = {stored.set_index("lead_no").loc[u["lead_no"], "id_number"]: u for u in plan.updates}
    assert set(changes) == {idn(8), idn(9)}
    assert changes[idn(9)]["grid"] == "CJ02-01-1" and changes[idn(9)]["returnee"] is True
    assert (changes[idn(8)]["outcome"], changes[idn(8)]["verifier"]) == ("已落实管控", "钱乡干")
