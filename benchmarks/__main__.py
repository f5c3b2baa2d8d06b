"""``python -m benchmarks [name ...]``: run the benchmarks (all by default)."""

import importlib
import sys

BENCHMARKS = ["map", "import", "briefing"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    ok = True
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        ok &= module.run()
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
