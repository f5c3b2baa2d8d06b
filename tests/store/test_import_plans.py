"""Import is a save: returnees imported from a file get their control plans in
the same transaction, through the CLI as through the import page's action
(SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date

import openpyxl
import pandas as pd
import pytest

import fangkong_lib.actions as A
from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from tests.store.test_workflow import RETURNEES, SECTIONS, idn

DAY = date(2022, 4, 7)
USER = "导入员"
HEADER = ["序号", "姓名", "性别", "身份证号码", "手机号码", "所属村", "网格", "风险类别", "预计返乡时间", "返乡时间"]
P7, P8, P9 = idn(31), idn(33), idn(35)


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    for key, rows in SECTIONS.items():
        store.write_ledger(engine, key, pd.DataFrame(rows), user="setup")
    store.write_ledger(engine, "returnees", pd.DataFrame(RETURNEES), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    A.refresh_plans(engine, user="setup")
    yield engine
    engine.dispose()


def ledger_file(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["城郊乡返乡人员登记台账"])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def rows(p8_arrival="2022-04-05", p8_category="中高风险区所在市其他县"):
    return [
        [1, "子一", "男", P7, "13900000001", "柳湾村", "CJ01-01-1", "中风险区", "2022-04-06", "2022-04-06"],
        [2, "丑二", "男", P8, "13900000002", "杏园村", "CJ02-01-1", p8_category, "2022-04-05", p8_arrival],
        [3, "寅三", "男", P9, "13900000003", "柳湾村", "CJ01-01-1", "省外低风险地区", "2022-04-12", None],
    ]


def controls(engine) -> pd.DataFrame:
    return store.load_ledger(engine, "controls").set_index("id_number")


def plan_audit(engine) -> pd.DataFrame:
    audit = store.load_audit(engine, "controls")
    return audit[audit["user"] == USER]


def test_imported_arrivals_get_their_plans_and_pages_see_them(engine, migrated_db_url, tmp_path):
    data = Dataset.load(migrated_db_url, reload=True)
    result = A.import_ledger(data, "returnees", ledger_file(tmp_path / "a.xlsx", rows()), user=USER, today=DAY)
    assert (result.read, result.inserted, result.rejected) == (3, 3, 0)
    assert "管控方案：新增 2" in result.message  # the one not yet arrived has no plan
    c = controls(engine)
    assert (c.loc[P7, "measure"], c.loc[P7, "end_date"]) == ("集中隔离", pd.Timestamp("2022-04-19"))
    assert (c.loc[P8, "measure"], c.loc[P8, "team"]) == ("居家健康监测", "钱乡干;吴支书;待指定;冯民警;李志愿")  # 志愿者 from the roster
    assert P9 not in c.index
    assert set(plan_audit(engine)["action"]) == {"insert"} and len(plan_audit(engine)) == 2
    # The page that imported shows the plans at once.
    assert {P7, P8} <= set(data.ledgers["controls"]["id_number"])


@pytest.mark.parametrize("change, arrival, category, fields, end", [
    ("same file", "2022-04-05", "中高风险区所在市其他县", None, "2022-04-11"),
    ("arrival corrected", "2022-04-06", "中高风险区所在市其他县",
     ("end_date", "start_date", "test_dates"), "2022-04-12"),
    ("category corrected", "2022-04-05", "中风险区", ("category", "end_date", "measure", "test_dates"), "2022-04-18"),
])
def test_a_reimport_changes_the_plan_only_when_the_data_changed(engine, tmp_path, change, arrival, category,
                                                                fields, end):
    A.import_ledger(engine, "returnees", ledger_file(tmp_path / "a.xlsx", rows()), user=USER, today=DAY)
    before = store.load_ledger(engine, "controls")
    audits = len(store.load_audit(engine))
    again = A.import_ledger(engine, "returnees", ledger_file(tmp_path / "b.xlsx", rows(arrival, category)),
                            user=USER, today=DAY)
    assert again.balanced
    if fields is None:
        assert (again.unchanged, again.updated, again.derived) == (3, 0, [])
        pd.testing.assert_frame_equal(store.load_ledger(engine, "controls"), before)
        assert len(store.load_audit(engine)) == audits  # nothing written, nothing audited
        return
    assert (again.unchanged, again.updated) == (2, 1) and "管控方案：新增 0，更新 1" in again.message
    assert controls(engine).loc[P8, "end_date"] == pd.Timestamp(end)
    last = plan_audit(engine).iloc[-1]
    assert last["action"] == "update" and P8 in last["row_key"]
    assert tuple(sorted(set(json.loads(last["after"])) - {"id_number"})) == fields  # only what changed


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_cli_import_makes_the_plans_the_export_shows(engine, migrated_db_url, tmp_path):
    path = ledger_file(tmp_path / "a.xlsx", rows())
    done = _cli("import", "returnees", path, "--db", migrated_db_url, "--user", USER)
    assert done.returncode == 0, done.stderr
    assert "管控方案：新增 2" in done.stdout
    out = tmp_path / "controls.csv"
    done = _cli("export", "controls", out, "--db", migrated_db_url)
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    header = table[0]  # a CSV starts with its header row
    names = {dict(zip(header, r))["姓名"]: dict(zip(header, r)) for r in table[1:]}
    assert names["子一"]["管控措施"] == "集中隔离" and names["丑二"]["应解除日期"] == "2022-04-11"
    assert "寅三" not in names


def test_cli_dates_without_a_year_take_the_datas_year(engine, migrated_db_url, tmp_path):
    """The data's today is 2022-04-07: 4月10日 is 2022-04-10 whatever the
    calendar says, as on the import page."""
    path = tmp_path / "no_year.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow([1, "卯四", "男", idn(37), "13900000004", "柳湾村", "CJ01-01-1", "省外低风险地区", "4月10日",
                         "4月6日"])
    done = _cli("import", "returnees", path, "--db", migrated_db_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inserted"] == 1
    row = store.load_ledger(engine, "returnees").set_index("id_number").loc[idn(37)]
    assert (row["expected_arrival"], row["actual_arrival"]) == (pd.Timestamp("2022-04-10"), pd.Timestamp("2022-04-06"))
    assert controls(engine).loc[idn(37), "start_date"] == pd.Timestamp("2022-04-06")
