"""``python -m benchmarks [name ...] [--db PATH_OR_URL] [--scale county]``:
run the benchmarks (all by default).

``--db`` (or FANGKONG_BENCH_DB) points the database benchmarks (voila) at any
database, SQLite or PostgreSQL; ``--scale county`` (or FANGKONG_BENCH_SCALE)
builds the county demo for them first. The load test is separate:
``python -m benchmarks.load`` (``make bench-load``).
"""

import argparse
import importlib
import os
import sys

BENCHMARKS = ["map", "import", "briefing", "voila"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--db", help="database (path or URL) for the page benchmarks")
    parser.add_argument("--scale", choices=("township", "county"), help="demo to build for the page benchmarks")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    if args.db:
        os.environ["FANGKONG_BENCH_DB"] = args.db
    if args.scale:
        os.environ["FANGKONG_BENCH_SCALE"] = args.scale
    ok = True
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        ok &= module.run()
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
