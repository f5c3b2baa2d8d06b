"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "bench-output"


def timed(fn, *, repeat: int = 5, warmup: int = 1):
    """Median wall time of ``fn()`` over ``repeat`` runs, and its last result."""
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def report(name: str, rows: list[dict], checks: list[tuple[str, bool]]) -> bool:
    """Print a table and the target checks; save JSON under bench-output/."""
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / f"{name}.json").write_text(json.dumps({"rows": rows, "checks": checks}, indent=2, ensure_ascii=False))
    keys = list(rows[0])
    md = [f"# {name}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    md += ["| " + " | ".join(_fmt(r[k]) for k in keys) + " |" for r in rows]
    md += [""] + [f"- [{'ok' if passed else 'MISSED'}] {label}" for label, passed in checks]
    (OUTPUT / f"{name}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"\n== {name}")
    keys = list(rows[0])
    widths = [max(len(str(k)), *(len(_fmt(r[k])) for r in rows)) for k in keys]
    print("  ".join(str(k).ljust(w) for k, w in zip(keys, widths)))
    for r in rows:
        print("  ".join(_fmt(r[k]).ljust(w) for k, w in zip(keys, widths)))
    ok = True
    for label, passed in checks:
        ok &= passed
        print(f"  [{'ok' if passed else 'MISSED'}] {label}")
    return ok


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@contextmanager
def database(tmp: Path):
    """The database a benchmark runs on, and a label for the report:
    ``FANGKONG_BENCH_DB`` (a path or URL, ``--db``) as it is; else with
    ``FANGKONG_BENCH_SCALE=county`` (``--scale county``) a county demo built
    by ``fangkong demo --scale county`` in ``tmp``; else the township demo."""
    given = os.environ.get("FANGKONG_BENCH_DB")
    if given:
        yield given, ("postgresql" if given.startswith("postgres") else "sqlite") + "-given"
        return
    scale = os.environ.get("FANGKONG_BENCH_SCALE", "township")
    db = Path(tmp) / f"{scale}.sqlite"
    if scale == "township":
        from fangkong_lib.demo import build_demo

        build_demo(str(db))
    else:
        res = subprocess.run([sys.executable, "-m", "fangkong_lib.cli", "demo", "--scale", scale, "--db", str(db)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"`fangkong demo --scale {scale}` failed: {(res.stderr or res.stdout).strip()[-500:]}")
    yield db, scale
