"""Plans kept in step with the data and the rules (actions/plans.py), and the
returnee forms (actions/returnees.py), on SQLite and PostgreSQL, on a small
township made by hand."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import date, timedelta

import pandas as pd
import pytest

import fangkong_lib.actions as workflow
from fangkong_lib.actions import plans
from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.ingest.normalize import id_check_char
from fangkong_lib.policy import POLICY_DIR, PolicyError

DAY = date(2022, 4, 7)
USER = "张干事"


def idn(n: int, born: str = "19900101") -> str:
    """A valid resident ID of Dancheng county; odd ``n`` is a man."""
    first17 = f"411625{born}{n:03d}"
    return first17 + id_check_char(first17)


P1, P2, P3, P4, P5, P6 = (idn(n) for n in (11, 13, 15, 17, 19, 21))
SECTIONS = {
    "villages": [dict(code="411625200201", name="柳湾村", area="第一片区"),
                 dict(code="411625200202", name="杏园村", area="第二片区")],
    "natural_villages": [dict(code="41162520020101", name="王庄", village="柳湾村", cadre="王村干"),
                         dict(code="41162520020201", name="李楼", village="杏园村", cadre="李村干")],
    "grids": [dict(code="CJ01-01-1", village="柳湾村", natural_village="王庄", member="王党员", cadre="赵乡干"),
              dict(code="CJ02-01-1", village="杏园村", natural_village="李楼", member="李党员", cadre="钱乡干")],
    "staff": [dict(staff_no="S0001", name="孙医生", level="村医", village="柳湾村", area="第一片区"),
              dict(staff_no="S0002", name="周民警", level="民警/辅警", village="柳湾村", area="第一片区"),
              dict(staff_no="S0003", name="冯民警", level="民警/辅警", village="杏园村", area="第一片区"),
              dict(staff_no="S0004", name="王支书", level="党支部书记", village="柳湾村", area="第一片区"),
              dict(staff_no="S0005", name="吴支书", level="党支部书记", village="杏园村", area="第一片区")],
    # the 五包一 志愿者 comes from the volunteer roster: the volunteer posted to the grid
    "volunteers": [dict(volunteer_no="ZY0001", name="王志愿", village="柳湾村", post="代购员"),
                   dict(volunteer_no="ZY0002", name="李志愿", village="杏园村", post="守门员")],
    "volunteer_assignments": [
        dict(assign_no="PZ00001", volunteer_no="ZY0001", name="王志愿", kind="网格", role="代购员", village="柳湾村",
             grid="CJ01-01-1", start_date="2022-03-10"),
        dict(assign_no="PZ00002", volunteer_no="ZY0002", name="李志愿", kind="网格", role="守门员", village="杏园村",
             grid="CJ02-01-1", start_date="2022-03-10")],
}


def person(id_number, name, category, *, arrival=None, expected=None, left=None, grid="CJ01-01-1",
           village="柳湾村", report="2022-04-01"):
    return dict(id_number=id_number, name=name, sex="男", phone="13812345678", village=village, grid=grid,
                natural_village="王庄" if village == "柳湾村" else "李楼", risk_category=category, origin="某地",
                report_date=report, expected_arrival=expected or arrival, actual_arrival=arrival, left_risk_date=left)


RETURNEES = [
    person(P1, "甲一", "中高风险区所在市其他县", arrival="2022-04-05"),  # 居家健康监测 4/5-4/11
    person(P2, "乙二", "高风险区", arrival="2022-04-06", left="2022-04-01"),  # 填平补齐: 4/1-4/14
    person(P3, "丙三", "省外低风险地区", expected="2022-04-09"),  # not yet arrived
    person(P4, "丁四", "省内低风险地区", arrival="2022-04-06"),  # no control
    person(P5, "戊五", "省外低风险地区", arrival="2022-04-01", grid="CJ02-01-1", village="杏园村"),  # 三天两检 4/1-4/3
    person(P6, "己六", "上海", arrival="2022-04-02"),  # 7 central + 7 home
]


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    for key, rows in SECTIONS.items():
        store.write_ledger(engine, key, pd.DataFrame(rows), user="setup")
    store.write_ledger(engine, "returnees", pd.DataFrame(RETURNEES), user="setup")
    store.write_ledger(engine, "away", pd.DataFrame([dict(
        village="柳湾村", grid="CJ01-01-1", name="丙三", sex="男", id_number=P3, phone="13812345678",
        province="江苏省", intends_return=True, expected_return=date(2022, 4, 9), returned=False)]), user="setup")
    store.write_ledger(engine, "tests", pd.DataFrame([dict(id_number=P5, name="戊五", village="杏园村",
                                                           sample_date=date(2022, 4, 1), result="阴性")]), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    yield engine
    engine.dispose()


def controls_of(engine) -> pd.DataFrame:
    return store.load_ledger(engine, "controls").set_index("id_number")


def audit_rows(engine, ledger: str) -> pd.DataFrame:
    audit = store.load_audit(engine, ledger)
    return audit[audit["user"] != "setup"]


# -- Plans --------------------------------------------------------------------------------


def test_refresh_makes_the_plan_of_every_arrived_returnee(engine):
    result = workflow.refresh_plans(engine, user=USER)
    assert (result.inserted, result.updated, result.errors) == (4, 0, [])
    c = controls_of(engine)
    assert set(c.index) == {P1, P2, P5, P6}  # not the one still away, not the low-risk one
    p1 = c.loc[P1]
    assert (p1["measure"], p1["start_date"], p1["end_date"], p1["status"], p1["regime"]) == (
        "居家健康监测", pd.Timestamp("2022-04-05"), pd.Timestamp("2022-04-11"), "管控中", "henan-2022-03-22")
    assert p1["test_dates"] == "2022-04-05;2022-04-07;2022-04-09;2022-04-11"
    assert p1["team"] == "赵乡干;王支书;孙医生;周民警;王志愿"  # 五包一 from the grid, in role order
    assert p1["found_via"] == "报备"
    p2 = c.loc[P2]  # left the high-risk area on 4/1, arrived 4/6: serves what is left
    assert (p2["start_date"], p2["end_date"]) == (pd.Timestamp("2022-04-01"), pd.Timestamp("2022-04-14"))
    # the arrival test (落地核酸, 4/6) comes first, also when 填平补齐 shortens the plan
    assert p2["test_dates"] == "2022-04-06;2022-04-07;2022-04-10;2022-04-14"
    assert c.loc[P6, "measure"] == "集中隔离+居家隔离"
    # 乡干部 from the grid, 支部书记 and 一村一警 of the person's village, no 村医 there yet
    assert c.loc[P5, "team"] == "钱乡干;吴支书;待指定;冯民警;李志愿"
    audit = audit_rows(engine, "controls")
    assert len(audit) == 4 and set(audit["action"]) == {"insert"} and set(audit["user"]) == {USER}


def test_refresh_writes_only_what_changed(engine):
    workflow.refresh_plans(engine, user=USER)
    again = workflow.refresh_plans(engine, user=USER)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert len(audit_rows(engine, "controls")) == 4  # nothing new in the audit log

    # A corrected category: the plan follows, only the fields that differ are written.
    store.upsert_row(engine, "returnees", {"id_number": P1, "risk_category": "中风险区"}, user="村干部")
    result = workflow.refresh_plans(engine, user=USER, ids=[P1])
    assert result.changes == [(P1, "updated", ("category", "end_date", "measure", "test_dates"))]
    c = controls_of(engine).loc[P1]
    assert (c["measure"], c["end_date"]) == ("集中隔离", pd.Timestamp("2022-04-18"))
    assert c["team"] == "赵乡干;王支书;孙医生;周民警;王志愿"
    last = audit_rows(engine, "controls").iloc[-1]
    assert last["action"] == "update" and '"measure": "居家健康监测"' in last["before"]
    assert '"measure": "集中隔离"' in last["after"] and "team" not in last["after"]


def test_what_people_decided_is_kept(engine):
    workflow.refresh_plans(engine, user=USER)
    store.upsert_row(engine, "controls", {"id_number": P1, "team": ["A", "B", "C", "D", "E"],
                                          "released_date": date(2022, 4, 7)}, user="乡干部")
    store.upsert_row(engine, "controls", {"id_number": P6, "home_ok": "不达标"}, user="乡干部")
    result = workflow.refresh_plans(engine, user=USER)
    c = controls_of(engine)
    assert c.loc[P1, "team"] == "A;B;C;D;E"
    assert (c.loc[P1, "released_date"], c.loc[P1, "status"]) == (pd.Timestamp("2022-04-07"), "已解除")
    # a home unfit for isolation: the home part of the plan becomes central isolation
    assert c.loc[P6, "measure"] == "集中隔离"
    assert sorted(ch[0] for ch in result.changes) == sorted([P1, P6])


def test_a_plan_that_is_no_longer_needed_is_released(engine):
    workflow.refresh_plans(engine, user=USER)
    store.upsert_row(engine, "returnees", {"id_number": P2, "risk_category": "省内低风险地区"}, user="村干部")
    workflow.refresh_plans(engine, user=USER, day=date(2022, 4, 8))
    c = controls_of(engine).loc[P2]
    assert (c["measure"], c["status"], c["released_date"]) == ("无", "已解除", pd.Timestamp("2022-04-08"))
    assert pd.isna(c["test_dates"])


def test_status_follows_the_day(engine):
    workflow.refresh_plans(engine, user=USER, day=date(2022, 4, 5))
    c = controls_of(engine)
    assert c.loc[P2, "status"] == "待管控"  # arrives on the 6th
    assert c.loc[P5, "status"] == "管控中"  # after 应解除日期 until someone records the release


def test_plans_are_recomputed_when_the_rule_files_change(engine, tmp_path):
    rules = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, rules, ignore=shutil.ignore_patterns("__*", "*.py", "stock*"))
    first = workflow.ensure_plans_current(engine, folder=rules)
    assert first is not None and first.inserted == 4
    assert workflow.ensure_plans_current(engine, folder=rules) is None  # nothing changed since
    # The county makes 7天4检 stricter: 10 days, tests on days 1, 4, 7 and 10.
    henan = rules / "henan-2022-03-22.toml"
    text = henan.read_text(encoding="utf-8")
    old = ('[rules."中高风险区所在市其他县"]\nsteps = [{ measure = "居家健康监测", days = 7 }]\n'
           'test_days = [1, 3, 5, 7]')
    assert old in text
    henan.write_text(text.replace(old, old.replace("days = 7", "days = 10").replace("[1, 3, 5, 7]", "[1, 4, 7, 10]")),
                     encoding="utf-8")
    try:
        second = workflow.ensure_plans_current(engine, folder=rules)
        assert second is not None and second.changes == [(P1, "updated", ("end_date", "test_dates"))]
        c = controls_of(engine).loc[P1]
        assert (c["end_date"], c["test_dates"]) == (pd.Timestamp("2022-04-14"),
                                                    "2022-04-05;2022-04-08;2022-04-11;2022-04-14")
        assert audit_rows(engine, "controls").iloc[-1]["user"] == plans.SYSTEM_USER
        assert store.get_meta(engine)[plans.POLICY_HASH_KEY] == workflow.policy_hash(rules)
    finally:
        from fangkong_lib.policy import forget_loaded_regimes

        forget_loaded_regimes()


def test_policy_hash_follows_files_and_forced_regime(tmp_path):
    rules = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, rules, ignore=shutil.ignore_patterns("__*", "*.py", "stock*"))
    base = workflow.policy_hash(rules)
    assert base == workflow.policy_hash(rules)
    assert workflow.policy_hash(rules, forced="national-9") != base
    (rules / "five_in_one.toml").write_text((rules / "five_in_one.toml").read_text(encoding="utf-8") + "\n",
                                            encoding="utf-8")
    assert workflow.policy_hash(rules) != base


def test_team_roles_and_sources_are_data(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "five_in_one.toml").write_text(
        'roles = ["包村乡干部", "网格员", "村医", "民警", "亲属"]\n[assign]\n"包村乡干部" = { grid = "cadre" }\n'
        '"村医" = { staff = "村医" }\n', encoding="utf-8")
    sources = plans.team_sources(folder)
    assigner = plans.TeamAssigner(pd.DataFrame(SECTIONS["grids"]), pd.DataFrame(SECTIONS["natural_villages"]),
                                     pd.DataFrame(SECTIONS["villages"]), pd.DataFrame(SECTIONS["staff"]), sources)
    assert assigner.roles == ["包村乡干部", "网格员", "村医", "民警", "亲属"]
    assert assigner("CJ01-01-1") == ["赵乡干", "待指定", "孙医生", "待指定", "待指定"]
    (folder / "five_in_one.toml").write_text(
        'roles = ["a", "b", "c", "d", "e"]\n[assign]\n"a" = { grid = "cadre", staff = "村医" }\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="只写"):
        plans.team_sources(folder)


def test_demo_teams_come_from_the_grid_and_the_staff_ledger(demo_data):
    """The demo's 五包一 teams are exactly what the assigner names from the
    grids, natural villages and staff (village doctors, police) and the
    volunteers' postings (household first, then grid)."""
    led = demo_data.ledgers
    assigner = plans.TeamAssigner(led["grids"], led["natural_villages"], led["villages"], led["staff"],
                                  assignments=led["volunteer_assignments"])
    controls = led["controls"]
    assert len(controls) > 100
    expected = [";".join(assigner(g, id_number=i)) for g, i in zip(controls["grid"], controls["id_number"])]
    assert controls["team"].tolist() == expected
    assert plans.UNASSIGNED not in ";".join(expected)


def test_plans_of_the_demo_are_current(demo_data):
    """The demo's stored plans are what the rules give (nothing to refresh)."""
    meta = store.get_meta(demo_data.engine)
    assert meta[plans.POLICY_HASH_KEY] == workflow.policy_hash()
    returnees = demo_data.ledgers["returnees"]
    controls = demo_data.ledgers["controls"].set_index("id_number")
    for row in returnees[returnees["id_number"].isin(controls.index)].head(80).to_dict("records"):
        plan = workflow.plan_for(row)
        c = controls.loc[row["id_number"]]
        assert (plan.measure, plan.end) == (c["measure"], c["end_date"].date())
        assert ";".join(d.isoformat() for d in plan.test_dates) == c["test_dates"]


# -- Export ------------------------------------------------------------------------------


def test_export_controls_lists_the_plans(engine, migrated_db_url, tmp_path):
    workflow.refresh_plans(engine, user=USER)
    out = tmp_path / "controls.csv"
    done = subprocess.run([sys.executable, "-m", "fangkong_lib.cli", "export", "controls", str(out), "--db", migrated_db_url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]  # a CSV starts with its header row
    for column in ("身份证号", "姓名", "村", "管控措施", "开始日期", "应解除日期", "核酸日期", "状态"):
        assert column in header, column
    table = [dict(zip(header, r)) for r in rows[1:]]
    assert len(table) == 4
    p2 = next(r for r in table if r["姓名"] == "乙二")
    assert (p2["村"], p2["管控措施"], p2["开始日期"], p2["应解除日期"], p2["状态"]) == (
        "柳湾村", "集中隔离", "2022-04-01", "2022-04-14", "管控中")
    assert p2["核酸日期"] == "2022-04-06;2022-04-07;2022-04-10;2022-04-14"
    assert p2["身份证号"] == P2[:6] + "********" + P2[-4:]  # masked by default


# -- The forms ---------------------------------------------------------------------------


@pytest.fixture
def data(engine, migrated_db_url):
    workflow.refresh_plans(engine, user=USER)
    return Dataset.load(migrated_db_url, reload=True)


def refused(call, *args, **kw) -> str:
    """The message of the ActionError ``call`` raises (it must raise one)."""
    with pytest.raises(workflow.ActionError) as caught:
        call(*args, **kw)
    message = str(caught.value)
    assert caught.value.problems and all(p.reason in message for p in caught.value.problems)  # fields to mark
    return message


def test_an_arrival_makes_the_plan_and_links_the_away_ledger(data, engine):
    message = workflow.record_arrival(data, P3, {"actual_arrival": DAY, "landing_test_result": "阴性"}, user=USER)
    assert "三天两检" in message and "2022-04-07 至 2022-04-09" in message
    c = controls_of(engine).loc[P3]
    assert (c["measure"], c["status"], c["team"]) == ("三天两检", "管控中", "赵乡干;王支书;孙医生;周民警;王志愿")
    r = store.load_ledger(engine, "returnees").set_index("id_number").loc[P3]
    assert (r["actual_arrival"], r["landing_test_result"]) == (pd.Timestamp(DAY), "阴性")
    assert bool(store.load_ledger(engine, "away").set_index("id_number").loc[P3, "returned"]) is True
    for ledger in ("returnees", "away", "controls"):
        assert audit_rows(engine, ledger)["user"].iloc[-1] == USER
    assert P3 in set(data.ledgers["controls"]["id_number"])  # the page sees it at once
    assert "已于 2022-04-07 登记到达" in refused(workflow.record_arrival, data, P3, {"actual_arrival": DAY}, user=USER)


def test_release_waits_for_the_last_day_and_every_test(data, engine):
    assert "未到应解除日期（2022-04-11）" in refused(workflow.record_release, data, P1, {"released_date": DAY},
                                                  user=USER)
    assert "计划核酸未完成（04-02）" in refused(workflow.record_release, data, P5, {"released_date": DAY}, user=USER)
    workflow.record_test(data, P5, {"sample_date": "2022-04-02", "result": "阴性"}, user=USER)
    assert "已解除" in workflow.record_release(data, P5, {"released_date": DAY}, user=USER)
    c = controls_of(engine).loc[P5]
    assert (c["status"], c["released_date"]) == ("已解除", pd.Timestamp(DAY))
    assert "已于 2022-04-07 解除管控" in refused(workflow.record_temperature, data, P5,
                                              {"date": DAY, "slot": "上午", "temperature": "36.5"}, user=USER)


def test_a_positive_test_blocks_the_release(data):
    assert "阳性！" in workflow.record_test(data, P5, {"sample_date": "2022-04-02", "result": "阳性"}, user=USER)
    assert "阳性" in refused(workflow.record_release, data, P5, {"released_date": DAY}, user=USER)


BAD_READINGS = [
    ({"date": DAY, "slot": "下午", "temperature": "3 8.1"}, "temperature", "应为数字"),
    ({"date": DAY, "slot": "下午", "temperature": "381"}, "temperature", "应在 34.0 至 43.0 ℃ 之间"),
    ({"date": DAY, "slot": "晚上", "temperature": "36.5"}, "slot", "应为 上午、下午 之一"),
    ({"date": DAY + timedelta(days=1), "slot": "上午", "temperature": "36.5"}, "date", "不能晚于今天"),
    ({"date": "2022-03-30", "slot": "上午", "temperature": "36.5"}, "date", "早于管控开始日期"),
    ({"date": "", "slot": "上午", "temperature": "36.5"}, "date", "必填项为空"),
]


@pytest.mark.parametrize("raw, field, reason", BAD_READINGS)
def test_bad_readings_are_refused_and_nothing_is_written(data, engine, raw, field, reason):
    before = len(store.load_audit(engine))
    with pytest.raises(workflow.ActionError) as caught:
        workflow.record_temperature(data, P1, raw, user=USER)
    assert reason in str(caught.value)
    assert [p.field for p in caught.value.problems] == [field]  # the page marks that field
    assert len(store.load_audit(engine)) == before


def test_readings_need_a_person_under_control_and_an_operator(data, engine):
    before = len(store.load_audit(engine))
    reading = {"date": DAY, "slot": "上午", "temperature": "36.5"}
    assert "没有管控记录" in refused(workflow.record_temperature, data, P4, reading, user=USER)
    assert "请先填写操作人" in refused(workflow.record_temperature, data, P1, reading, user="  ")
    assert len(store.load_audit(engine)) == before


def test_a_fever_is_recorded_with_its_symptom(data, engine):
    assert "发热" in workflow.record_temperature(data, P1, {"date": DAY, "slot": "下午", "temperature": "38.1"},
                                               user=USER)
    row = store.load_ledger(engine, "daily_checks").iloc[-1]
    assert (row["id_number"], row["temp_pm"], row["symptoms"], row["day_no"]) == (P1, 38.1, "发热", 3)
    # the morning of the same day is kept when the afternoon is recorded
    workflow.record_temperature(data, P1, {"date": DAY, "slot": "上午", "temperature": "36.6"}, user=USER)
    row = store.load_ledger(engine, "daily_checks").iloc[-1]
    assert (row["temp_am"], row["temp_pm"]) == (36.6, 38.1)


def test_a_preregistration_is_validated_like_an_import(data, engine):
    new = {"name": "庚七", "id_number": idn(23)[:-1] + ("0" if idn(23)[-1] != "0" else "1"), "phone": "12345",
           "village": "柳湾村", "risk_category": "省外低风险地区", "expected_arrival": "2022-04-12"}
    with pytest.raises(workflow.ActionError) as caught:
        workflow.record_preregistration(data, new, user=USER)
    assert {"id_number", "phone"} <= {p.field for p in caught.value.problems}
    assert "身份证号" in str(caught.value) and "手机号" in str(caught.value)
    assert len(audit_rows(engine, "returnees")) == 0
    good = {**new, "id_number": idn(23), "phone": "13912345678", "grid": "CJ01-01-1", "expected_arrival": "2022-04-09"}
    assert "未提前 3 天报备" in workflow.record_preregistration(data, good, user=USER)
    r = store.load_ledger(engine, "returnees").set_index("id_number").loc[idn(23)]
    assert (r["natural_village"], r["entered_by"], r["report_date"]) == ("王庄", USER, pd.Timestamp(DAY))
    assert "属于杏园村" in refused(workflow.record_preregistration, data, {**good, "grid": "CJ02-01-1"}, user=USER)


def test_a_preregistration_from_the_away_ledger_links_it(data, engine):
    store.upsert_row(engine, "away", {"id_number": P3, "expected_return": date(2022, 4, 20)}, user="setup")
    message = workflow.record_preregistration(data, {"risk_category": "省外低风险地区", "expected_arrival": "2022-04-11",
                                                     "name": "冒名"}, user=USER, away_id=P3)
    assert "已关联在外人员台账" in message
    r = store.load_ledger(engine, "returnees").set_index("id_number").loc[P3]
    assert (r["name"], r["expected_arrival"]) == ("丙三", pd.Timestamp("2022-04-11"))  # the away row's person
    a = store.load_ledger(engine, "away").set_index("id_number").loc[P3]
    assert a["expected_return"] == pd.Timestamp("2022-04-11") and bool(a["intends_return"])
    assert data.ledgers["away"].set_index("id_number").loc[P3, "expected_return"] == pd.Timestamp("2022-04-11")


def test_a_late_registration_with_an_arrival_gets_its_plan_at_once(data, engine):
    walk_in = {"name": "辛八", "id_number": idn(25), "phone": "13912345678", "village": "杏园村",
               "grid": "CJ02-01-1", "risk_category": "中高风险区所在市其他县", "actual_arrival": "2022-04-06"}
    message = workflow.record_preregistration(data, walk_in, user=USER)
    assert "居家健康监测" in message and "未提前 3 天报备" in message
    assert controls_of(engine).loc[idn(25), "end_date"] == pd.Timestamp("2022-04-12")


def test_actions_check_what_the_store_holds_not_a_stale_page(data, engine):
    """Another kernel recorded the arrival after this page loaded: the check
    reads the store, inside the writing transaction."""
    other = Dataset(data.url, {"returnees": data.ledgers["returnees"].copy()}, dict(data.meta))
    workflow.record_arrival(engine, P3, {"actual_arrival": DAY}, user="另一位")
    assert pd.isna(other.ledgers["returnees"].set_index("id_number").loc[P3, "actual_arrival"])  # stale
    assert "已于 2022-04-07 登记到达" in refused(workflow.record_arrival, other, P3, {"actual_arrival": DAY}, user=USER)
    assert len(controls_of(engine).loc[[P3]]) == 1
