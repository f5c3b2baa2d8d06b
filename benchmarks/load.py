"""Load test: simulated users working at once on one PostgreSQL database.

``python -m benchmarks.load [--users 20] [--seconds 300] [--db URL] [--threads]``
(``make bench-load``; five minutes by default, so not part of ``make bench``).

Each user loops: a filter on the overview (the page model's compute, with a
different village each time, timed), a nucleic-acid test and a temperature
through the real actions (``actions.returnees``, ``user=`` their name), on
people of their own. User 0 also imports one returnee ledger file. Users are
processes by default, each with its own engine and data (``--threads``:
threads of one process, each with its own engine).

At the end every write is checked against the store: each (person, day)
written must hold the value its user wrote last, the imported people must
all be there, and the audit log must hold an entry per successful action.
Reported: errors (must be 0), lost writes (must be 0), p50/p95 filter time.
Without ``--db`` a throw-away PostgreSQL server is started (tests/pgserver.py)
and the township demo built into it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path

import sqlalchemy as sa

from .common import OUTPUT, report

IMPORT_ROWS = 300


def user_name(i: int) -> str:
    return f"压测用户{i:02d}"


def _people(url: str, users: int) -> tuple[list[list[tuple[str, list[str]]]], list[str], str]:
    """Per user: (id number, days under control) of people of their own;
    the village names; the data's today."""
    from fangkong_lib import store
    from fangkong_lib.actions.base import as_date

    engine = store.get_engine(url)
    today = store.data_today(store.get_meta(engine))
    controls = store.load_ledger(engine, "controls")
    people = []
    for row in controls.to_dict("records"):
        start, released = as_date(row.get("start_date")), as_date(row.get("released_date"))
        if start is None or row.get("measure") in (None, "无") or start > today:
            continue
        if released is not None and released <= today:
            continue
        days = [start + timedelta(days=k) for k in range((today - start).days + 1)][-7:]
        people.append((row["id_number"], [d.isoformat() for d in days]))
    villages = store.load_ledger(engine, "villages", columns=["name"])["name"].tolist()
    return [people[i::users] for i in range(users)], villages, today.isoformat()


def run_user(url: str, i: int, seconds: float, people: list, villages: list[str], import_file: str | None,
             threads: bool) -> dict:
    """One user's loop; returns what they did and what they last wrote."""
    from fangkong_lib import store
    from fangkong_lib.actions import import_ledger
    from fangkong_lib.actions.returnees import record_temperature, record_test
    from fangkong_lib.dataset import Dataset
    from fangkong_lib.ui.models.overview import OverviewModel

    name = user_name(i)
    out = {"user": name, "filters": [], "errors": [], "actions": 0, "tests": {}, "temps": {}, "imported": None}
    try:
        if threads:  # one process: the data is shared, each user writes through an engine of their own
            data = Dataset.load(url)
            db = sa.create_engine(store.get_engine(url).url)
        else:
            data = Dataset.load(url)
            db = data  # as a page does: the actions re-read what they changed
        model = OverviewModel(data)
    except Exception:
        out["errors"].append(traceback.format_exc(limit=3))
        return out
    deadline = time.monotonic() + seconds
    if import_file:
        try:
            result = import_ledger(db, "returnees", import_file, user=name)
            out["imported"] = result.as_dict()
            # rows refused with a reason (an arrival after the data's today) are accounted for, not lost
            out["import_rejected"] = [str(r.values[4]) for r in result.rejected_rows]
            out["actions"] += 1
        except Exception:
            out["errors"].append(traceback.format_exc(limit=3))
    k = 0
    while time.monotonic() < deadline:
        village = villages[(i + k) % len(villages)]
        try:
            start = time.perf_counter()
            model.village = village if model.village != village else ""
            out["filters"].append(time.perf_counter() - start)
            if model.status.startswith("出错") or "出错" in model.status:
                out["errors"].append(f"filter {village}: {model.status}")
        except Exception:
            out["errors"].append(traceback.format_exc(limit=3))
        if people:
            idn, days = people[k % len(people)]
            day = days[(k // len(people)) % len(days)]
            result = "阴性" if k % 2 else "待出"
            temp = f"{36.0 + (k % 9) / 10:.1f}"
            slot = "上午" if (k // len(people)) % 2 == 0 else "下午"
            try:
                record_test(db, idn, {"sample_date": day, "result": result}, user=name)
                out["tests"][f"{idn}|{day}"] = result
                out["actions"] += 1
            except Exception:
                out["errors"].append(traceback.format_exc(limit=3))
            try:
                record_temperature(db, idn, {"date": day, "slot": slot, "temperature": temp}, user=name)
                out["temps"][f"{idn}|{day}|{slot}"] = temp
                out["actions"] += 1
            except Exception:
                out["errors"].append(traceback.format_exc(limit=3))
        k += 1
    return out


def stored_values(url: str) -> tuple[dict, dict]:
    """Test results by (id, day) and temperatures by (id, day, slot) in the store."""
    from fangkong_lib import store

    engine = store.get_engine(url)
    tests = store.load_ledger(engine, "tests")
    checks = store.load_ledger(engine, "daily_checks")
    stored_test = {(r["id_number"], _iso(r["sample_date"])): r["result"] for r in tests.to_dict("records")}
    stored_temp = {}
    for r in checks.to_dict("records"):
        for slot, col in (("上午", "temp_am"), ("下午", "temp_pm")):
            v = r.get(col)
            stored_temp[(r["id_number"], _iso(r["date"]), slot)] = None if v is None or v != v else float(v)
    return stored_test, stored_temp


def check(url: str, results: list[dict], import_ids: list[str], before: tuple[dict, dict]) -> list[str]:
    """Lost writes: what users wrote and the store does not hold, and
    writes that changed a value without an audit entry of their user."""
    from fangkong_lib import store

    engine = store.get_engine(url)
    returnees = set(store.load_ledger(engine, "returnees", columns=["id_number"])["id_number"])
    stored_test, stored_temp = stored_values(url)
    lost = []
    audited = _audit_counts(engine)
    for res in results:
        changed = 0  # a write of the value already stored changes nothing and is not audited
        for key, value in res["tests"].items():
            idn, day = key.split("|")
            changed += before[0].get((idn, day)) != value
            if stored_test.get((idn, day)) != value:
                lost.append(f"{res['user']} test {key}: wrote {value}, store has {stored_test.get((idn, day))}")
        for key, value in res["temps"].items():
            idn, day, slot = key.split("|")
            changed += before[1].get((idn, day, slot)) != float(value)
            got = stored_temp.get((idn, day, slot))
            if got is None or abs(got - float(value)) > 1e-9:
                lost.append(f"{res['user']} temperature {key}: wrote {value}, store has {got}")
        if res["imported"]:
            changed += 1
        if audited.get(res["user"], 0) < changed:
            lost.append(f"{res['user']}: {changed} changing writes, {audited.get(res['user'], 0)} audit entries")
    lost += [f"imported person {idn} missing" for idn in import_ids if idn not in returnees]
    return lost


def _audit_counts(engine) -> dict[str, int]:
    """Audit entries per user."""
    table = sa.Table("audit_log", sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(table.c.user, sa.func.count()).group_by(table.c.user)).all())


def _iso(value) -> str:
    return value.isoformat()[:10] if hasattr(value, "isoformat") else str(value)[:10]


def _import_file(folder: Path, villages: list[str]) -> tuple[Path, list[str]]:
    from benchmarks import bench_import

    saved = bench_import.VILLAGES
    bench_import.VILLAGES = (villages * 17)[:17]
    try:
        path = bench_import.make_file(folder / "load-returnees.xlsx", IMPORT_ROWS)
    finally:
        bench_import.VILLAGES = saved
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return path, [str(r[4]) for r in rows[3:]]


def load_test(url: str, users: int = 20, seconds: float = 300, threads: bool = False, folder: Path | None = None) -> dict:
    """Run the users against ``url`` (a database with the demo in it)."""
    folder = Path(folder or tempfile.mkdtemp())
    per_user, villages, _today = _people(url, users)
    path, import_ids = _import_file(folder, villages)
    args = [(url, i, seconds, per_user[i], villages, str(path) if i == 0 else None, threads) for i in range(users)]
    before = stored_values(url)
    pool = ThreadPoolExecutor(users) if threads else ProcessPoolExecutor(users, mp_context=get_context("spawn"))
    with pool:
        results = [f.result() for f in [pool.submit(run_user, *a) for a in args]]
    refused = set(results[0].get("import_rejected", ()))
    lost = check(url, results, [idn for idn in import_ids if idn not in refused], before)
    filters = sorted(t for r in results for t in r["filters"])
    q = statistics.quantiles(filters, n=20) if len(filters) >= 2 else [float("nan")] * 19
    return {
        "users": users, "seconds": seconds, "mode": "threads" if threads else "processes",
        "errors": [e for r in results for e in r["errors"]], "lost": lost,
        "filters": len(filters), "writes": sum(r["actions"] for r in results),
        "p50_s": statistics.median(filters) if filters else float("nan"), "p95_s": q[18],
        "imported": results[0]["imported"], "import_rejected": sorted(refused),
    }


def with_demo_postgres(stack: ExitStack) -> str:
    """A throw-away PostgreSQL server with the township demo in it."""
    from fangkong_lib.config import REPO_DIR
    from fangkong_lib.demo import build_demo

    sys.path.insert(0, str(REPO_DIR / "tests"))
    from pgserver import temporary_postgres

    url = stack.enter_context(temporary_postgres())
    build_demo(url)
    return url


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--db", help="PostgreSQL URL of a database holding the demo (default: a throw-away server)")
    parser.add_argument("--threads", action="store_true", help="users as threads (default: processes)")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        url = args.db or with_demo_postgres(stack)
        out = load_test(url, args.users, args.seconds, args.threads, OUTPUT)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "load-detail.json").write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    rows = [{"users": out["users"], "seconds": out["seconds"], "mode": out["mode"], "filters": out["filters"],
             "writes": out["writes"], "errors": len(out["errors"]), "lost_writes": len(out["lost"]),
             "p50_filter_s": out["p50_s"], "p95_filter_s": out["p95_s"]}]
    for e in out["errors"][:5] + out["lost"][:5]:
        print(e)
    ok = report("load", rows, [("0 errors", not out["errors"]), ("0 lost writes", not out["lost"])])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
