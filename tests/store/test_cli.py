"""The command line as users and scripts call it (a real subprocess)."""

import csv
import re
import subprocess
import sys

import openpyxl
import pytest

from fangkong_lib.ledgers import LEDGERS
from fangkong_lib.outputs.exports import COMPUTED_COLUMNS


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


FULL_ID = re.compile(r"\b\d{17}[\dX]\b")


# `export leads` lists every lead with its status at a moment (tests/store/test_leads_store.py)
@pytest.mark.parametrize("ledger", sorted(set(LEDGERS) - {"leads"}))
def test_export_every_ledger_masked(ledger, demo_db, tmp_path, capsys):
    # The command's own entry point, in this process: a new interpreter per
    # ledger would only repeat the start-up the other tests here already run.
    from fangkong_lib.cli import main

    out = tmp_path / f"{ledger}.csv"
    assert main(["export", ledger, str(out), "--db", str(demo_db)]) == 0
    stdout = capsys.readouterr().out
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    computed = list(COMPUTED_COLUMNS.get(ledger, {}))  # e.g. the gatherings' 不符合项, after the ledger's own
    assert rows[0] == [f.label for f in LEDGERS[ledger].tabular_fields] + computed  # the header first, no title line
    assert "脱敏" in stdout
    assert not FULL_ID.search(out.read_text(encoding="utf-8-sig"))
    assert len(rows) > 1


def test_export_xlsx_unmasked_keeps_ids_as_text(demo_db, tmp_path):
    out = tmp_path / "r.xlsx"
    res = run("export", "returnees", out, "--db", demo_db, "--unmasked")
    assert res.returncode == 0 and "未脱敏" in res.stdout
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[2]]
    col = header.index("身份证号") + 1
    cell = ws.cell(row=3, column=col)
    assert cell.number_format == "@" and FULL_ID.fullmatch(cell.value)


def test_villages_export_has_village_names(demo_db, tmp_path):
    out = tmp_path / "v.xlsx"
    assert run("export", "villages", out, "--db", demo_db).returncode == 0
    ws = openpyxl.load_workbook(out).active
    assert "村名" in [c.value for c in ws[2]]
    assert ws.max_row == 2 + 17


@pytest.mark.parametrize("args, message", [
    (["export", "returnees", "x.pdf"], "不支持的导出格式"),
    (["export", "returnees", "x.csv", "--db", "/nonexistent/none.sqlite"], "不存在"),
    (["map", "x.html", "--date", "2022-13-01"], "格式不对"),
    (["map", "x.html", "--village", "火星村"], "未知的村"),
])
def test_user_errors_are_one_line_and_exit_2(args, message, tmp_path, demo_db):
    args = [a if a.startswith(("-", "/")) or "." not in a else str(tmp_path / a) for a in args]
    if "--db" not in args:
        args += ["--db", str(demo_db)]
    res = run(*args)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_demo_then_map(tmp_path):
    db = tmp_path / "d.sqlite"
    res = run("demo", "--db", db, "--seed", "3")
    assert res.returncode == 0 and "376" in res.stdout
    out = tmp_path / "map.html"
    assert run("map", out, "--db", db, "--date", "2022-04-05").returncode == 0
    html = out.read_text(encoding="utf-8")
    assert "2022-04-05" in html and "<script src=" not in html


@pytest.mark.parametrize("args, message", [
    (["brief", "--date", "9999-12-31", "--out", "out"], "超出范围"),
    (["brief", "--date", "1999-12-31", "--out", "out"], "超出范围"),
    (["map", "x.html", "--date", "9999-12-31"], "超出范围"),
    (["map", "x.png", "--size", "0x0"], "超出范围"),
    (["map", "x.png", "--scale", "1000"], "超出范围"),
    (["serve", "--port", "70000"], "超出范围"),
    (["demo", "--seed", "-1"], "超出范围"),
    (["no-such-command"], "invalid choice"),
    (["export", "no-such-ledger", "x.csv"], "invalid choice"),
])
def test_out_of_range_arguments_are_one_line_and_exit_2(args, message, tmp_path, demo_db):
    args = [str(tmp_path / a) if a in ("out", "x.html", "x.png", "x.csv") else a for a in args]
    if args[0] not in ("demo", "no-such-command"):
        args += ["--db", str(demo_db)]
    else:
        args += ["--db", str(tmp_path / "new.sqlite")] if args[0] == "demo" else []
    res = run(*args)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not (tmp_path / "new.sqlite").exists()


@pytest.mark.parametrize("command", [
    ["import", "villages", "FILE"], ["export", "villages", "OUT"], ["map", "OUT"], ["brief", "--out", "OUT"],
    ["serve"],
])
def test_a_mistyped_db_is_refused_not_created(command, tmp_path):
    """A --db naming no file must not quietly become a new empty database."""
    from fangkong_lib.outputs.xlsx import write_template

    source = write_template("villages", tmp_path / "v.xlsx")
    typo = tmp_path / "fangkomg.sqlite"
    args = [str(source) if a == "FILE" else str(tmp_path / "out.html") if a == "OUT" else a for a in command]
    res = run(*args, "--db", typo)
    assert res.returncode == 2 and "不存在" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not typo.exists()


def test_import_creates_a_database_only_when_asked(tmp_path, demo_db):
    from fangkong_lib.outputs.exports import export_ledger
    from fangkong_lib import store

    out = tmp_path / "v.xlsx"
    export_ledger(store.get_engine(demo_db), "villages", out, masked=False)
    new = tmp_path / "new.sqlite"
    res = run("import", "villages", out, "--db", new, "--create-db", "--json")
    assert res.returncode == 0, res.stderr
    assert new.exists() and '"inserted": 17' in res.stdout
