"""Importing a 100,000-row returnee ledger against reading it bare.

Baselines measured in the same run, each in a fresh process (time and peak
memory): ``pandas.read_excel`` with python-calamine (the fastest engine
available) and with pandas' default engine (openpyxl). The import reads,
cleans, validates every value, sorts out duplicates and writes to a fresh
SQLite file in one transaction.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

from .common import OUTPUT, report

ROWS = 100_000
VILLAGES = ["柳湾村", "杏园村", "桑庄村", "槐荫村", "枣林村", "荷塘村", "麦岗村", "稻香村", "菱角村",
            "芦花村", "桃溪村", "梨园村", "竹林村", "松岗村", "榆树村", "柏庄村", "杨湖村"]
CATEGORIES = ["省外低风险地区", "省内低风险地区", "中高风险区所在市其他县", "上海", "中风险区"]


def make_file(path: Path, rows: int = ROWS) -> Path:
    """A realistic ledger: title rows, aliases, mixed date forms, all valid."""
    from openpyxl import Workbook

    from fangkong_lib.ingest.normalize import id_check_char

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("返乡人员")
    ws.append(["城郊乡返乡人员登记台账"])
    ws.append(["填报单位：各村"])
    ws.append(["序号", "报备日期", "姓名", "性别", "身份证号码", "手机号码", "所属村", "出发地", "风险类别",
               "预计返乡时间", "返乡时间", "交通方式", "车次/航班/车牌号", "包保责任人", "备注"])
    start = date(1950, 1, 1)
    for i in range(rows):
        born = start + timedelta(days=(i // 1000) * 97)  # with the sequence number: unique IDs
        first = f"411625{born:%Y%m%d}{i % 1000:03d}"
        idn = first + id_check_char(first)
        arrive = date(2022, 3, 10) + timedelta(days=i % 30)
        ws.append([i + 1, f"{arrive - timedelta(days=3):%Y/%m/%d}", f"姓名{i}", "男" if (i % 1000) % 2 else "女",
                   idn, f"13{i % 10}{i:08d}"[:11], VILLAGES[i % 17], "浙江省杭州市", CATEGORIES[i % 5],
                   arrive, f"{arrive:%Y年%m月%d日}" if i % 3 else None, "自驾", f"豫P{i % 100000:05d}",
                   f"党员{i % 376}", ""])
    wb.save(path)
    return path


CODE = {
    "calamine": "import pandas as pd; df = pd.read_excel(P, engine='calamine', header=2); n = len(df)",
    "openpyxl": "import pandas as pd; df = pd.read_excel(P, header=2); n = len(df)",
    "import": textwrap.dedent("""
        import pandas as pd
        from fangkong_lib import store
        from fangkong_lib.actions import import_ledger
        e = store.get_engine(DB); store.init_db(e)
        store.write_ledger(e, 'villages', pd.DataFrame({'code': [str(i) for i in range(17)], 'name': VILLAGES}))
        r = import_ledger(e, 'returnees', P, user='bench')
        assert r.inserted == r.read and r.rejected == 0, r.as_dict()
        n = r.inserted
    """),
}


def _measure(kind: str, path: Path, db: Path) -> dict:
    program = textwrap.dedent(f"""
        import json, resource, time
        P, DB, VILLAGES = {str(path)!r}, {str(db)!r}, {VILLAGES!r}
        t = time.perf_counter()
    """) + CODE[kind] + textwrap.dedent("""
        elapsed = time.perf_counter() - t
        print(json.dumps({"s": elapsed, "rows": n, "peak_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """)
    db.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(rows: int = ROWS) -> bool:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"returnees-{rows}.xlsx"
    if not path.exists():
        make_file(path, rows)
    db = OUTPUT / "import-bench.sqlite"
    calamine = _measure("calamine", path, db)
    imported = _measure("import", path, db)
    openpyxl = _measure("openpyxl", path, db)
    rows_out = [
        {"case": "pandas.read_excel, calamine", "s": calamine["s"], "peak_MB": calamine["peak_MB"], "ratio": 1.0},
        {"case": "fangkong import (read+validate+write)", "s": imported["s"], "peak_MB": imported["peak_MB"],
         "ratio": imported["s"] / calamine["s"]},
        {"case": "pandas.read_excel, openpyxl (default)", "s": openpyxl["s"], "peak_MB": openpyxl["peak_MB"],
         "ratio": openpyxl["s"] / calamine["s"]},
    ]
    checks = [
        (f"import of {rows:,} rows within 1.5x the bare calamine read", imported["s"] <= 1.5 * calamine["s"]),
        ("import well under pandas' default engine (< 0.5x)", imported["s"] < 0.5 * openpyxl["s"]),
    ]
    return report("import", rows_out, checks)
