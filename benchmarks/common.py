"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import json
import statistics
import time
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
