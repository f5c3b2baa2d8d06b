"""Grid responsibility (网格责任) written through its actions on SQLite and
PostgreSQL: a node's new person with its history, households linked to
party members, the grids' 户数 and 已联户数 kept in step (forms, import),
and the grids export adding up to the villages."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

import fangkong_lib.actions as A
from fangkong_lib import store
from fangkong_lib.domain.grids import grid_tree, vacant_nodes

DAY = date(2022, 4, 7)


@pytest.fixture
def engine(migrated_db_url):
    """Two villages, three natural villages, three grids, the six levels of
    people, three party members and eight households."""
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    store.set_meta(engine, today=DAY.isoformat())
    staff = [
        dict(staff_no="S0001", name="甲书记", level="大网格长", phone="13800000001"),
        dict(staff_no="S0002", name="乙乡长", level="大网格长", phone="13800000002"),
        dict(staff_no="S0003", name="丙片长", level="网格长", phone="13800000003", area="第一片区"),
        dict(staff_no="S0004", name="丁支书", level="党支部书记", phone="13800000004", area="第一片区", village="甲村"),
        dict(staff_no="S0005", name="戊支书", level="党支部书记", phone="13800000005", area="第一片区", village="乙村"),
        dict(staff_no="S0006", name="己干部", level="下沉乡干部", phone="13800000006", area="第一片区", village="甲村"),
        dict(staff_no="S0007", name="庚干部", level="下沉乡干部", phone="13800000007", area="第一片区", village="乙村"),
        dict(staff_no="S0008", name="辛村干", level="自然村干部", phone="13800000008", village="甲村",
             natural_village="东庄"),
        dict(staff_no="S0009", name="壬村干", level="自然村干部", phone="13800000009", village="甲村",
             natural_village="西庄"),
        dict(staff_no="S0010", name="癸村干", level="自然村干部", phone="13800000010", village="乙村",
             natural_village="南庄"),
        dict(staff_no="S0011", name="联户甲", level="党员联户", phone="13800000011", village="甲村",
             natural_village="东庄", grid="A-1"),
        dict(staff_no="S0012", name="联户乙", level="党员联户", phone="13800000012", village="甲村",
             natural_village="西庄", grid="A-2"),
        # B-1 has nobody: a vacant node
    ]
    frames = {
        "villages": [dict(code="411625200201", name="甲村", area="第一片区", secretary="丁支书",
                          secretary_phone="13800000004", households=6),
                     dict(code="411625200202", name="乙村", area="第一片区", secretary="戊支书",
                          secretary_phone="13800000005", households=2)],
        "natural_villages": [dict(code="N1", name="东庄", village="甲村", cadre="辛村干", cadre_phone="13800000008"),
                             dict(code="N2", name="西庄", village="甲村", cadre="壬村干", cadre_phone="13800000009"),
                             dict(code="N3", name="南庄", village="乙村", cadre="癸村干", cadre_phone="13800000010")],
        "grids": [dict(code="A-1", village="甲村", natural_village="东庄", member="联户甲", member_phone="13800000011",
                       cadre="己干部", households=4, linked=3),
                  dict(code="A-2", village="甲村", natural_village="西庄", member="联户乙", member_phone="13800000012",
                       cadre="己干部", households=2, linked=2),
                  dict(code="B-1", village="乙村", natural_village="南庄", cadre="庚干部", households=2, linked=1)],
        "staff": staff,
        "party_members": [dict(member_no="D1", name="联户甲", village="甲村", natural_village="东庄", grid="A-1"),
                          dict(member_no="D2", name="联户乙", village="甲村", natural_village="西庄", grid="A-2"),
                          dict(member_no="D3", name="党员丙", village="乙村", natural_village="南庄", grid="B-1")],
        "households": [dict(household_no=f"H{i}", head=f"户主{i}", village=v, natural_village=n, grid=g, member_no=m)
                       for i, (v, n, g, m) in enumerate([
                           ("甲村", "东庄", "A-1", "D1"), ("甲村", "东庄", "A-1", "D1"), ("甲村", "东庄", "A-1", "D1"),
                           ("甲村", "东庄", "A-1", None), ("甲村", "西庄", "A-2", "D2"), ("甲村", "西庄", "A-2", "D2"),
                           ("乙村", "南庄", "B-1", "D3"), ("乙村", "南庄", "B-1", None)])],
    }
    for key, rows in frames.items():
        store.write_ledger(engine, key, pd.DataFrame(rows), user="setup")
    yield engine
    engine.dispose()


def snapshot(engine) -> dict:
    keys = ("staff", "villages", "natural_villages", "grids", "households", "grid_assignments")
    return {k: store.load_ledger(engine, k).to_csv() for k in keys} | {"audit": len(store.load_audit(engine))}


def row(engine, key: str, **equal) -> dict:
    frame = store.load_ledger(engine, key)
    for k, v in equal.items():
        frame = frame[frame[k] == v]
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


# -- Reassignment ------------------------------------------------------------------------------------


def test_reassigning_a_grid_member_keeps_the_history_and_the_grid_in_step(engine):
    A.reassign_post(engine, "S0011", name="新党员", phone="13900000011", reason="外出务工", user="乡党政办",
                    today=DAY)
    assert row(engine, "staff", staff_no="S0011")["name"] == "新党员"
    grid = row(engine, "grids", code="A-1")
    assert (grid["member"], grid["member_phone"]) == ("新党员", "13900000011")
    A.reassign_post(engine, "S0011", name="再换人", phone="13900000022", reason="", user="乡党政办", today=DAY)
    history = store.load_ledger(engine, "grid_assignments").sort_values("time")
    assert history[["old_name", "new_name"]].values.tolist() == [["联户甲", "新党员"], ["新党员", "再换人"]]
    assert history["old_phone"].tolist() == ["13800000011", "13900000011"]
    assert history["operator"].tolist() == ["乡党政办"] * 2 and history["reason"].iloc[0] == "外出务工"
    assert history["time"].is_unique and (history["time"].dt.date == DAY).all()
    audit = store.load_audit(engine, "staff")
    assert (audit["user"] == "乡党政办").sum() == 2


@pytest.mark.parametrize("node, level, ledger, key, columns", [
    ("S0004", "党支部书记", "villages", {"name": "甲村"}, ("secretary", "secretary_phone")),
    ("S0008", "自然村干部", "natural_villages", {"code": "N1"}, ("cadre", "cadre_phone")),
])
def test_a_village_leaders_copy_follows(engine, node, level, ledger, key, columns):
    result = A.reassign_post(engine, node, name="接任者", phone="13900000099", user="乡组织办", today=DAY)
    assert result.staff_no == node and level in result.message and "接任者" in result.message
    copy = row(engine, ledger, **key)
    assert (copy[columns[0]], copy[columns[1]]) == ("接任者", "13900000099")


def test_a_township_cadre_sent_down_follows_in_the_grids(engine):
    A.reassign_post(engine, "S0006", name="新下沉", phone="13900000066", user="乡组织办", today=DAY)
    cadres = store.load_ledger(engine, "grids").set_index("code")["cadre"].to_dict()
    assert cadres == {"A-1": "新下沉", "A-2": "新下沉", "B-1": "庚干部"}
    tree = grid_tree(*(store.load_ledger(engine, k) for k in ("staff", "villages", "natural_villages", "grids")))
    assert tree.loc[tree["name"] == "新下沉", "scope"].tolist() == ["东庄、西庄"]


def test_filling_a_vacant_node_adds_the_person(engine):
    tree = grid_tree(*(store.load_ledger(engine, k) for k in ("staff", "villages", "natural_villages", "grids")))
    hole = vacant_nodes(tree)
    assert hole["node"].tolist() == ["空缺:党员联户:B-1"]
    result = A.reassign_post(engine, "空缺:党员联户:B-1", name="党员丙", phone="13900000033", reason="补缺",
                             user="乙村", today=DAY)
    assert result.staff_no == "S0013"
    person = row(engine, "staff", staff_no="S0013")
    assert (person["level"], person["village"], person["natural_village"], person["grid"]) == (
        "党员联户", "乙村", "南庄", "B-1")
    assert row(engine, "grids", code="B-1")["member"] == "党员丙"
    history = row(engine, "grid_assignments", staff_no="S0013")
    assert pd.isna(history["old_name"]) and history["new_name"] == "党员丙" and "原空缺" in result.message
    tree = grid_tree(*(store.load_ledger(engine, k) for k in ("staff", "villages", "natural_villages", "grids")))
    assert vacant_nodes(tree).empty


@pytest.mark.parametrize("node, name, phone, message", [
    ("S0011", "", "13900000011", "姓名：必填项为空"),
    ("S0011", "新人", "12345", "联系电话「12345」"),
    ("S0011", "联户甲", "13800000011", "与现任相同"),
    ("S9999", "新人", "13900000011", "不是六级网格中的节点"),
    ("空缺:党员联户:Z-9", "新人", "13900000011", "没有这个网格"),
])
def test_refused_reassignments_write_nothing(engine, node, name, phone, message):
    before = snapshot(engine)
    with pytest.raises(A.ActionError, match=message):
        A.reassign_post(engine, node, name=name, phone=phone, user="乡党政办", today=DAY)
    assert snapshot(engine) == before
    with pytest.raises(A.ActionError, match="操作人"):
        A.reassign_post(engine, "S0011", name="新人", phone="13900000011", user=" ", today=DAY)


# -- Linking households ------------------------------------------------------------------------------


def test_linking_households_updates_them_and_the_grids_linked_count(engine):
    message = A.link_households(engine, ["H3"], "D1", user="甲村")
    assert "1 户" in message and "联户甲" in message
    household = row(engine, "households", household_no="H3")
    assert (household["member_no"], household["member"]) == ("D1", "联户甲")
    assert row(engine, "grids", code="A-1")["linked"] == 4
    assert "未变更" in A.link_households(engine, ["H3"], "D1", user="甲村")


def test_a_household_of_another_village_or_an_unknown_member_is_refused(engine):
    before = snapshot(engine)
    with pytest.raises(A.ActionError, match="户编号「H7」：属于乙村.*应由本村党员联系"):
        A.link_households(engine, ["H3", "H7"], "D1", user="甲村")
    with pytest.raises(A.ActionError, match="不在联户党员名册中"):
        A.link_households(engine, ["H3"], "D9", user="甲村")
    with pytest.raises(A.ActionError, match="没有这一户"):
        A.link_households(engine, ["H99"], "D1", user="甲村")
    with pytest.raises(A.ActionError, match="请选择"):
        A.link_households(engine, [], "D1", user="甲村")
    assert snapshot(engine) == before


def test_an_imported_households_file_recounts_the_grids(engine, tmp_path):
    path = tmp_path / "农户.csv"
    path.write_text("户编号,户主,村,自然村,网格,联户党员编号\nH7,户主7,乙村,南庄,B-1,D3\n"
                    "H8,户主8,乙村,南庄,B-1,D3\nH9,户主9,乙村,南庄,B-1,\n", encoding="utf-8")
    result = A.import_ledger(engine, "households", path, user="乙村")
    assert (result.inserted, result.updated) == (2, 1)
    grid = row(engine, "grids", code="B-1")
    assert (grid["households"], grid["linked"]) == (4, 3)  # H6 and H7 were there
    assert any("已联户数" in d for d in result.derived)


# -- The export --------------------------------------------------------------------------------------


def test_the_grids_export_carries_households_and_linked_adding_up_to_the_villages(demo_db, tmp_path):
    def export(key):
        out = tmp_path / f"{key}.csv"
        res = subprocess.run([sys.executable, "-m", "fangkong_lib.cli", "export", key, str(out), "--db", str(demo_db)],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return list(csv.DictReader(out.open(encoding="utf-8-sig")))

    grids, villages, households = export("grids"), export("villages"), export("households")
    assert {"户数", "已联户数"} <= set(grids[0])
    grid_total = sum(int(r["户数"]) for r in grids)
    assert grid_total == sum(int(r["户数"]) for r in villages) == len(households) > 10_000
    linked = sum(int(r["已联户数"]) for r in grids)
    assert linked == sum(1 for r in households if r["联户党员编号"]) and 0.9 * grid_total < linked < grid_total
    per_village: dict[str, int] = {}
    for r in grids:
        per_village[r["村"]] = per_village.get(r["村"], 0) + int(r["户数"])
    assert per_village == {r["村名"]: int(r["户数"]) for r in villages}
    with sa.create_engine(f"sqlite:///{demo_db}").connect() as conn:  # nothing the export wrote
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM grid_assignments").scalar() == 4
