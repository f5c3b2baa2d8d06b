"""Importing the villages' files: a corpus of messy files built here, each
with its exact counts and reasons (DOMAIN.md §2, §4)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from fangkong_lib import store
from fangkong_lib.outputs.xlsx import write_template
from fangkong_lib.actions import import_ledger
from fangkong_lib.ingest import LedgerFileError

VILLAGE = "柳湾村"
OTHER_VILLAGE = "杏园村"
ID_A = "11010519491231002X"  # female, valid
ID_B = "440524188001010014"  # male, valid
ID_C = "411625199001010015"  # male, valid
TODAY = date(2022, 4, 7)


def _id(seq: int) -> str:
    from fangkong_lib.ingest.normalize import id_check_char

    first = f"41162519850101{seq:03d}"
    return first + id_check_char(first)


@pytest.fixture
def engine(tmp_path):
    """A store with the township's villages and nothing else."""
    e = store.get_engine(f"sqlite:///{tmp_path}/import.sqlite")
    store.init_db(e)
    import pandas as pd

    store.write_ledger(e, "villages", pd.DataFrame([
        {"code": f"411625200{201 + i}", "name": n} for i, n in enumerate([VILLAGE, OTHER_VILLAGE])]))
    return e


def xlsx(path, rows, *, title=True, header=None):
    """An xlsx like the villages send: a title row, then the header, then rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append(["城郊乡返乡人员登记台账"])
        ws.append(["填报单位：柳湾村　　填报日期：2022年4月7日"])
    ws.append(header or ["序号", "姓名", "性别", "身份证号码", "手机号码", "所属村", "来源地", "风险类别",
                         "预计返乡时间", "返乡时间", "交通方式", "报备日期", "备注(村里用)"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def row(n, name="张三", sex="女", idn=ID_A, phone="13812341234", village=VILLAGE, origin="上海市浦东新区",
        risk="上海", expected="2022-04-09", actual=None, transport="自驾", reported="2022-04-06", note=""):
    return [n, name, sex, idn, phone, village, origin, risk, expected, actual, transport, reported, note]


def run(engine, path, ledger="returnees", **kw):
    return import_ledger(engine, ledger, path, today=TODAY, user="tester", **kw)


def reasons(result):
    return {r.row: "；".join(r.reasons) for r in result.rejected_rows}


# -- Reading files ------------------------------------------------------------


def test_clean_file_with_title_rows_and_aliases(engine, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", [row(1), row(2, name="李四", sex="男", idn=ID_B, expected=None, actual="2022/4/5")])
    res = run(engine, path)
    assert (res.read, res.inserted, res.rejected, res.header_row) == (2, 2, 0, 3)
    assert any("备注(村里用)" in w for w in res.warnings)  # an unknown column is named, not used
    stored = store.load_ledger(engine, "returnees").set_index("id_number")
    assert stored.loc[ID_B, "actual_arrival"].date() == date(2022, 4, 5)
    assert stored.loc[ID_A, "origin"] == "上海市浦东新区"


def test_blank_rows_are_skipped_and_not_counted(engine, tmp_path):
    path = xlsx(tmp_path / "b.xlsx", [row(1), [None] * 13, [3] + [None] * 12, ["", " ", None], row(4, idn=ID_B, sex="男")])
    res = run(engine, path)
    assert (res.read, res.inserted) == (2, 2)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(engine, tmp_path, encoding):
    path = tmp_path / "r.csv"
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["城郊乡返乡人员登记台账"])
        w.writerow(["姓名", "身份证号", "电话", "村", "来源地风险类别", "到达时间"])
        w.writerow(["王小明", ID_C, "138 1234 1234", VILLAGE, "省外低风险地区", "2022.4.5"])
    res = run(engine, path)
    assert (res.read, res.inserted, res.rejected) == (1, 1, 0), reasons(res)
    assert store.load_ledger(engine, "returnees")["name"].tolist() == ["王小明"]


def test_normalising_what_staff_type(engine, tmp_path):
    rows = [
        row(1, name=" 张三\n", idn="１１０１０５１９４９１２３１００２ｘ", phone="+86 138-1234-1234", expected="2022年4月9日"),
        row(2, name="李四", sex="男", idn=f" {ID_B} ", phone="0086 13912341234", expected=datetime(2022, 4, 9, 15, 30)),
        row(3, name="王五", sex="男", idn=ID_C, phone="0394-3211234", expected=44660),  # Excel serial
        row(4, name="赵六", sex="男", idn=_id(1), phone="８６13712341234", expected="44660", actual=None),
    ]
    res = run(engine, xlsx(tmp_path / "n.xlsx", rows))
    assert (res.inserted, res.rejected) == (4, 0), reasons(res)
    s = store.load_ledger(engine, "returnees").set_index("id_number")
    assert s.loc[ID_A, "name"] == "张三" and s.loc[ID_A, "phone"] == "13812341234"
    assert s.loc[ID_B, "phone"] == "13912341234" and s.loc[ID_C, "phone"] == "03943211234"
    assert {d.date() for d in s["expected_arrival"]} == {date(2022, 4, 9)}  # text, cell, serial, serial as text


def test_rejections_name_row_column_and_value(engine, tmp_path):
    rows = [
        row(1, idn="110105194912310021"),                       # checksum
        row(2, idn="110105194913310028"),                       # 13th month
        row(3, idn=4.11625e17),                                 # stored as a number
        row(4, idn="4.11625E+17"),                              # shown in scientific notation
        row(5, idn="411625199001010000"),                       # trailing 000
        row(6, idn=_id(2), phone="12812341234"),                # not a mobile
        row(7, idn=_id(3), expected="下周三"),                   # unreadable date
        row(8, idn=_id(4), risk="火星"),                         # not an allowed value
        row(9, idn=_id(5), village="火星村"),                    # not in the township
        row(10, idn=_id(6), name=None),                         # required missing
        row(11, idn=_id(7), expected=None, actual=None),        # neither arrival date
        row(12, idn=ID_A, sex="男"),                            # sex contradicts the ID
    ]
    res = run(engine, xlsx(tmp_path / "bad.xlsx", rows))
    assert (res.read, res.inserted, res.rejected) == (12, 0, 12)
    r = reasons(res)
    assert "校验位不符" in r[4] and "110105194912310021" in r[4] and r[4].startswith("身份证号")
    assert "出生日期" in r[5]
    assert "存成了数字" in r[6]
    assert "科学计数法" in r[7]
    assert "000" in r[8] and "截断" in r[8]
    assert "手机号「12812341234」" in r[9]
    assert "预计到达时间「下周三」" in r[10]
    assert "来源地风险类别「火星」" in r[11] and "不在可选值中" in r[11]
    assert "村「火星村」：不是本乡的村" in r[12]
    assert "姓名：必填项为空" in r[13]
    assert "至少填一项" in r[14]
    assert "与身份证号不符" in r[15]
    assert store.count_rows(engine, "returnees") == 0


def test_rows_named_as_excel_numbers_them_below_blank_top_rows(engine, tmp_path):
    """A sheet whose first rows (and first column) are empty: the report
    names the bad row by the number Excel shows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    header = ["序号", "姓名", "性别", "身份证号码", "手机号码", "所属村", "来源地", "风险类别",
              "预计返乡时间", "返乡时间", "交通方式", "报备日期", "备注(村里用)"]
    for r, values in enumerate([header, row(1), row(2, idn=_id(2), phone="12812341234")], start=4):
        for c, value in enumerate(values, start=2):
            ws.cell(row=r, column=c, value=value)
    wb.save(tmp_path / "low.xlsx")
    res = run(engine, tmp_path / "low.xlsx")
    assert (res.read, res.inserted, res.rejected, res.header_row) == (2, 1, 1, 4)
    assert list(reasons(res)) == [6] and "手机号「12812341234」" in reasons(res)[6]


def test_duplicates_and_conflicts(engine, tmp_path):
    rows = [
        row(1),
        row(2, phone="138 1234 1234"),                  # the same row once cleaned: a duplicate
        row(3, name="李四", sex="男", idn=ID_B),
        row(4, name="李四", sex="男", idn=ID_B, phone="13999999999"),  # same ID, other phone: both rejected
        row(5, name="王五", sex="男", idn=ID_C),
    ]
    res = run(engine, xlsx(tmp_path / "d.xlsx", rows))
    assert (res.read, res.inserted, res.duplicates, res.rejected) == (5, 2, 1, 2)
    r = reasons(res)
    assert "第 7 行" in r[6] and "第 6 行" in r[7]  # rows 6 and 7 in Excel name each other
    assert set(store.load_ledger(engine, "returnees")["id_number"]) == {ID_A, ID_C}


def test_against_the_store_unchanged_updated_audited(engine, tmp_path):
    first = xlsx(tmp_path / "1.xlsx", [row(1), row(2, name="李四", sex="男", idn=ID_B)])
    assert run(engine, first).inserted == 2
    again = run(engine, first)
    assert (again.read, again.unchanged, again.inserted, again.updated) == (2, 2, 0, 0)
    before_audit = len(store.load_audit(engine, "returnees"))
    changed = xlsx(tmp_path / "2.xlsx", [row(1, phone="13700000000"), row(2, name="李四", sex="男", idn=ID_B)])
    res = run(engine, changed)
    assert (res.updated, res.unchanged) == (1, 1)
    audit = store.load_audit(engine, "returnees").iloc[before_audit:]
    assert list(audit["action"]) == ["update"]
    entry = audit.iloc[0]
    assert entry["user"] == "tester"
    assert json.loads(entry["before"]) == {"phone": "13812341234"}
    assert json.loads(entry["after"]) == {"phone": "13700000000"}
    assert json.loads(entry["row_key"]) == {"id_number": ID_A}


def test_dry_run_writes_nothing(engine, tmp_path):
    res = run(engine, xlsx(tmp_path / "a.xlsx", [row(1)]), dry_run=True)
    assert res.inserted == 1 and res.dry_run
    assert store.count_rows(engine, "returnees") == 0
    assert store.load_audit(engine, "returnees").empty


def test_error_report_is_ready_to_send_back(engine, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", [row(1), row(2, idn="110105194912310021")])
    report = tmp_path / "errors.xlsx"
    from fangkong_lib.outputs.reports import import_with_report

    res = import_with_report(engine, "returnees", path, report=report, today=TODAY, user="tester")
    assert res.report == str(report)
    ws = openpyxl.load_workbook(report).active
    header = [c.value for c in ws[2]]
    assert header[:2] == ["原行号", "错误原因"] and "身份证号码" in header
    values = [c.value for c in ws[3]]
    assert values[0] == 5 and "校验位" in values[1] and "110105194912310021" in values


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"\x00\x01not an excel file"), "无法读取"),
    (lambda p: xlsx(p, [row(1)], header=["姓名", "身份证号"]), "缺少必填列"),
    (lambda p: xlsx(p, [["a", "b"]], header=["甲", "乙"]), "找不到"),
])
def test_unusable_files(engine, tmp_path, make, message):
    path = tmp_path / "x.xlsx"
    make(path)
    with pytest.raises(LedgerFileError, match=message):
        run(engine, path)
    assert store.count_rows(engine, "returnees") == 0


def test_wrong_ledger_is_refused(engine, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", [row(1)])
    with pytest.raises(LedgerFileError, match="重点场所"):
        run(engine, path, ledger="places")


def test_template_round_trip(engine, tmp_path):
    tpl = write_template("returnees", tmp_path / "tpl.xlsx")
    wb = openpyxl.load_workbook(tpl)
    ws = wb.active
    header = [c.value for c in ws[2]]
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ws.cell(row=3, column=col["身份证号"]).number_format == "@"
    assert ws.cell(row=3, column=col["手机号"]).number_format == "@"
    dropdowns = " ".join(str(dv.formula1) for dv in ws.data_validations.dataValidation)
    assert "中高风险区所在县" in dropdowns and "豫事办" in dropdowns
    assert wb.sheetnames[1] == "填写说明"
    for k, v in {"姓名": "张三", "身份证号": ID_A, "手机号": "13812341234", "村": VILLAGE,
                 "来源地风险类别": "上海", "预计到达时间": "2022-04-09"}.items():
        ws.cell(row=3, column=col[k], value=v)
    wb.save(tpl)
    res = run(engine, tpl)
    assert (res.read, res.inserted, res.rejected) == (1, 1, 0)
    assert not res.warnings


@pytest.mark.parametrize("ledger", ["villages", "places", "problems", "donations", "daily_checks", "tests"])
def test_every_template_imports_its_export(ledger, demo_db, tmp_path):
    """Export → import into a fresh copy: nothing is lost, nothing rejected."""
    from fangkong_lib.outputs.exports import export_ledger

    src = store.get_engine(demo_db)
    out = tmp_path / f"{ledger}.xlsx"
    n = export_ledger(src, ledger, out, masked=False)
    target = store.get_engine(f"sqlite:///{tmp_path}/t.sqlite")
    store.init_db(target)
    store.write_ledger(target, "villages", store.load_ledger(src, "villages"))
    res = import_ledger(target, ledger, out, today=TODAY, user="t")
    assert res.read == n and res.rejected == 0, reasons(res)
    assert res.inserted + res.unchanged == n


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_cli_json_summary_adds_up(engine, tmp_path):
    db = engine.url.database
    path = xlsx(tmp_path / "a.xlsx", [row(1), row(2), row(3, idn="bad"), row(4, idn=ID_B, sex="男")])
    res = _cli("import", "returnees", path, "--db", db, "--json", "--report", tmp_path / "e.xlsx")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["read"] == 4 == summary["inserted"] + summary["updated"] + summary["unchanged"] + \
        summary["duplicates"] + summary["rejected"]
    assert (summary["inserted"], summary["duplicates"], summary["rejected"]) == (2, 1, 1)
    assert summary["report"].endswith("e.xlsx")


@pytest.mark.parametrize("content, message", [(b"PK\x03\x04broken", "无法读取"), (None, "文件不存在")])
def test_cli_unusable_file_exit_2_one_line(engine, tmp_path, content, message):
    path = tmp_path / "x.xlsx"
    if content is not None:
        path.write_bytes(content)
    res = _cli("import", "returnees", path, "--db", engine.url.database)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_killed_import_leaves_the_store_as_it_was(engine, tmp_path):
    """One transaction per file: kill a real import process while it writes."""
    import signal
    import time

    from fangkong_lib.ingest.importer import CHUNK

    # More rows than two of the reader's chunks: a write committed chunk by
    # chunk would leave rows behind; more rows than that prove nothing more.
    rows = [row(i, name=f"人{i}", idn=_big_id(i), sex=None, phone=f"138{i:08d}") for i in range(1, 2 * CHUNK + 2)]
    path = xlsx(tmp_path / "big.xlsx", rows)
    db = engine.url.database
    code = (
        "import sys, time\n"
        "from fangkong_lib import store\n"
        "from fangkong_lib.actions import import_ledger\n"
        "orig = store.audit\n"
        "def slow_audit(conn, **kw):\n"
        "    print('WRITING', flush=True); time.sleep(60); orig(conn, **kw)\n"
        "store.audit = slow_audit\n"
        f"import_ledger(store.get_engine({db!r}), 'returnees', {str(path)!r}, user='k')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "WRITING"  # the rows are inserted, not committed
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    fresh = sa.create_engine(f"sqlite:///{db}")
    with fresh.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM returnees").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM villages").scalar() == 2


def _big_id(i: int) -> str:
    from fangkong_lib.ingest.normalize import id_check_char

    first = f"411625{19600101 + (i // 1000) * 10000:08d}{i % 1000:03d}"
    return first + id_check_char(first)
