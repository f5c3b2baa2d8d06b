"""Files that leave the office: every ledger exports; text stays text (no
live formula in any workbook, neutralised CSV cells); CSV starts with its
header; areas imported without a boundary do not break maps or briefings."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date

import openpyxl
import pandas as pd
import pytest

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.ledgers import LEDGERS
from fangkong_lib.outputs.exports import csv_cell, export_file_name, export_frame, export_ledger
from fangkong_lib.outputs.reports import import_with_report

DEMO_DAY = date(2022, 4, 7)
HYPERLINK = '=HYPERLINK("http://x","点击")'
HOSTILE = ["=1+1", "+cmd", "-cmd", "@SUM(A1)", "\tx", "\rx", "-3+1", HYPERLINK]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def _sqlite(path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def writable_db(demo_db, tmp_path):
    """A private copy of the demo database made with SQLite's backup API,
    so rows still in the source's write-ahead log come along."""
    import sqlite3

    copy = tmp_path / "demo-copy.sqlite"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    return copy


# -- Every ledger exports (blanks as empty cells) ---------------------------------


@pytest.mark.parametrize("ledger_key", list(LEDGERS))
def test_every_ledger_exports_to_xlsx_and_csv(demo_db, ledger_key, tmp_path):
    engine = store.get_engine(_sqlite(demo_db))
    rows = store.load_ledger(engine, ledger_key)
    n_xlsx = export_ledger(engine, ledger_key, tmp_path / "x.xlsx")
    n_csv = export_ledger(engine, ledger_key, tmp_path / "x.csv")
    assert n_xlsx == n_csv == len(rows)
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert ws.max_row == 2 + len(rows) or len(rows) == 0
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert "<NA>" not in text and "NaT" not in text and "nan" not in text.split(",")
    read = pd.read_csv(tmp_path / "x.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(read) == len(rows)
    assert list(read.columns) == [c.value for c in ws[2]]  # the header is the first line


def test_blank_yes_no_cells_export_as_empty_cells(demo_db, tmp_path):
    """The demo's inspections have blank 是/否 cells (`Cannot convert <NA> to Excel` before)."""
    engine = store.get_engine(_sqlite(demo_db))
    rows = store.load_ledger(engine, "inspections")
    bools = [c for c in rows.columns if str(rows[c].dtype) == "boolean"]
    blank = rows[bools].isna().any(axis=1)
    assert blank.any(), "the demo should carry blank 是/否 cells"
    result = run_cli("export", "inspections", tmp_path / "i.xlsx", "--db", demo_db)
    assert result.returncode == 0, result.stderr
    run_cli("export", "inspections", tmp_path / "i.csv", "--db", demo_db)
    read = pd.read_csv(tmp_path / "i.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    ws = openpyxl.load_workbook(tmp_path / "i.xlsx").active
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert any(None in r for r in values)
    assert len(read) == len(rows) and "<NA>" not in set(read.stack())
    assert (read.isin([""]).any(axis=1)).sum() >= blank.sum()


# -- Text stays text ---------------------------------------------------------------


@pytest.fixture
def hostile_returnees(demo_data):
    rows = demo_data.ledgers["returnees"].head(len(HOSTILE)).copy()
    rows["name"] = HOSTILE
    rows["note"] = HYPERLINK
    return rows


def test_hostile_text_is_never_a_formula_in_xlsx(hostile_returnees, tmp_path):
    export_frame(hostile_returnees, "returnees", tmp_path / "r.xlsx", masked=False)
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    header = [c.value for c in ws[2]]
    names = [ws.cell(row=3 + i, column=header.index("姓名") + 1) for i in range(len(HOSTILE))]
    notes = [ws.cell(row=3 + i, column=header.index("备注") + 1) for i in range(len(HOSTILE))]
    # the data itself is not altered (XML reads a lone CR back as LF)
    assert [c.value for c in names] == [h.replace("\r", "\n") for h in HOSTILE]
    assert all(c.data_type == "s" for c in names + notes)
    assert notes[0].value.startswith("=") and notes[0].data_type == "s"


def test_hostile_text_is_neutralised_in_csv_numbers_stay_numbers(hostile_returnees, tmp_path):
    frame = hostile_returnees.assign(age=-3)
    export_frame(frame, "returnees", tmp_path / "r.csv", masked=False)
    read = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert read["姓名"].tolist() == ["'" + h for h in HOSTILE]
    assert set(read["备注"]) == {"'" + HYPERLINK}
    assert csv_cell(-3) == -3 and csv_cell(-3.5) == -3.5 and csv_cell("-3") == "'-3"
    assert csv_cell("张三") == "张三" and csv_cell(True) == "是"


def test_export_leaves_the_store_unchanged(writable_db, tmp_path):
    engine = store.get_engine(_sqlite(writable_db))
    before = store.load_ledger(engine, "returnees")
    export_ledger(engine, "returnees", tmp_path / "r.csv")
    export_ledger(engine, "returnees", tmp_path / "r.xlsx")
    pd.testing.assert_frame_equal(store.load_ledger(engine, "returnees"), before)


def test_csv_starts_with_its_header_and_names_synthetic_data_in_the_file_name(demo_db, tmp_path):
    engine = store.get_engine(_sqlite(demo_db))
    export_ledger(engine, "places", tmp_path / "p.csv")
    first = next(csv.reader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8-sig"))))
    assert first[:2] == ["场所码编号", "场所名称"]
    assert "合成演示数据" not in (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    read = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig")
    assert len(read) == store.count_rows(engine, "places")
    ws = openpyxl.load_workbook(_xlsx(engine, tmp_path)).active
    assert "合成演示数据" in ws["A1"].value  # the xlsx keeps the label in its title row
    assert export_file_name("重点场所", ".csv", synthetic=True) == "重点场所_合成演示数据.csv"
    assert export_file_name("重点场所", ".csv", synthetic=False) == "重点场所.csv"


def _xlsx(engine, tmp_path):
    export_ledger(engine, "places", tmp_path / "p.xlsx")
    return tmp_path / "p.xlsx"


def test_error_report_keeps_hostile_values_as_text(writable_db, tmp_path):
    engine = store.get_engine(_sqlite(writable_db))
    source = tmp_path / "bad.csv"
    source.write_text("姓名,身份证号码,手机号,所属村,来源地风险类别,预计返乡时间,备注\n"
                      f'"{HYPERLINK.replace(chr(34), chr(34) * 2)}",123,13812341234,柳湾村,省外低风险地区,2022-04-09,"=1+1"\n',
                      encoding="utf-8")
    report = tmp_path / "errors.xlsx"
    result = import_with_report(engine, "returnees", source, report=report, user="t", today=DEMO_DAY)
    assert result.rejected == 1 and result.report == str(report)
    ws = openpyxl.load_workbook(report).active
    cells = [c for c in ws[3] if isinstance(c.value, str) and c.value.startswith("=")]
    assert {c.value for c in cells} >= {HYPERLINK, "=1+1"}
    assert all(c.data_type == "s" for c in cells)


# -- Areas without a boundary ---------------------------------------------------------


def _import_csv(engine, ledger, path, text):
    path.write_text(text, encoding="utf-8")
    result = import_with_report(engine, ledger, path, user="t", today=DEMO_DAY)
    assert result.inserted == 1, result.as_dict()


@pytest.fixture
def shapeless_db(writable_db, tmp_path):
    """The demo plus a village, a natural village and a grid imported from
    their own templates (which have no boundary column)."""
    engine = store.get_engine(_sqlite(writable_db))
    _import_csv(engine, "villages", tmp_path / "v.csv", "村代码,村名\n411625200999,新建村\n")
    _import_csv(engine, "natural_villages", tmp_path / "n.csv", "自然村编号,自然村,村\nNV999,新庄,新建村\n")
    _import_csv(engine, "grids", tmp_path / "g.csv", "网格编号,村,自然村\nG999,新建村,新庄\n")
    return writable_db


def test_map_and_briefing_draw_areas_without_a_boundary(shapeless_db, tmp_path):
    from fangkong_lib.outputs import briefing

    data = Dataset.load(shapeless_db, reload=True)
    assert "新建村" in data.village_names and data.villages.geometry.isna().any()
    doc = briefing.map_document(data, DEMO_DAY, layers=list(briefing.MAP_LAYERS))
    assert "城郊乡疫情防控态势图" in doc
    assert "新建村" in briefing.map_document(data, DEMO_DAY, village="新建村")  # the subtitle; no shape to zoom to
    b = briefing.summarize_briefing(data, DEMO_DAY)
    assert "新建村" in b.villages.index
    assert "新建村" in briefing.briefing_html(b)
    wb = openpyxl.load_workbook(io.BytesIO(briefing.briefing_xlsx(b)))
    assert "新建村" in [c.value for c in wb["各村报告"]["A"]]
    result = run_cli("map", tmp_path / "map.html", "--db", shapeless_db, "--date", DEMO_DAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert "合成演示数据" in (tmp_path / "map.html").read_text(encoding="utf-8")
