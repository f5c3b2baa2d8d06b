"""The daily briefing: the whole of it (figures, map PNG, PDF, xlsx) for the
demo township, against two baselines measured in the same run.

- overview: the bare overview computation the dashboards do for one date
  (the briefing does it for two dates and adds lists, a chart and files);
- trivial PDF: start the system Chromium and print a one-line page to PDF
  (the fixed cost of any PDF made this way).

Target: the whole briefing, from the command line, in under 30 s.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fangkong_lib.outputs.briefing import briefing_files, briefing_html, briefing_xlsx, map_png, summarize_briefing
from fangkong_lib.dataset import Dataset
from fangkong_lib.demo import build_demo
from fangkong_lib.domain.overview import summarize_overview
from fangkong_lib.outputs.render import Chromium, find_chromium, with_chromium

from .common import report, timed

TARGET_S = 30.0


def _trivial_pdf() -> bytes:
    return with_chromium(lambda browser: browser.pdf("<html><body><p>防控工作台</p></body></html>",
                                                     embed_fonts=False))


def run() -> bool:
    try:
        find_chromium()
    except RuntimeError as exc:
        print(f"\n== briefing\n  skipped: {exc}")
        return False
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite"
        build_demo(db)
        data = Dataset.load(db)
        day = data.today

        t_overview, _ = timed(lambda: summarize_overview(data.ledgers, day), repeat=5)
        t_trivial, _ = timed(_trivial_pdf, repeat=3)
        t_whole, files = timed(lambda: briefing_files(data, day), repeat=3)

        # Where the time goes (one browser for the parts that need one).
        t_figures, b = timed(lambda: summarize_briefing(data, day), repeat=3)
        with Chromium() as browser:
            t_map, b.map_png = timed(lambda: map_png(data, day, browser=browser), repeat=3)
            html = briefing_html(b)
            t_pdf, _ = timed(lambda: browser.pdf(html), repeat=3)
        t_xlsx, _ = timed(lambda: briefing_xlsx(b), repeat=3)

        # What a user waits for: a fresh process, `fangkong brief`.
        out = Path(tmp) / "out"
        start = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "fangkong_lib.cli", "brief", "--date", day.isoformat(),
                              "--out", str(out), "--db", str(db)], capture_output=True, text=True, timeout=300)
        t_cli = time.perf_counter() - start
        cli_ok = res.returncode == 0 and len(list(out.iterdir())) == 3

    sizes = {suffix: len(content) / 1e6 for suffix, (_, content) in files.items()}
    rows = [
        {"case": "overview figures (baseline)", "seconds": t_overview, "x_overview": 1.0, "x_trivial_pdf": t_overview / t_trivial},
        {"case": "trivial Chromium PDF (baseline)", "seconds": t_trivial, "x_overview": t_trivial / t_overview, "x_trivial_pdf": 1.0},
        {"case": "whole briefing, in process", "seconds": t_whole, "x_overview": t_whole / t_overview, "x_trivial_pdf": t_whole / t_trivial},
        {"case": "  figures, lists, chart", "seconds": t_figures, "x_overview": t_figures / t_overview, "x_trivial_pdf": t_figures / t_trivial},
        {"case": "  map PNG (2400x1700)", "seconds": t_map, "x_overview": t_map / t_overview, "x_trivial_pdf": t_map / t_trivial},
        {"case": "  PDF with CJK font subset", "seconds": t_pdf, "x_overview": t_pdf / t_overview, "x_trivial_pdf": t_pdf / t_trivial},
        {"case": "  xlsx", "seconds": t_xlsx, "x_overview": t_xlsx / t_overview, "x_trivial_pdf": t_xlsx / t_trivial},
        {"case": "`fangkong brief`, fresh process", "seconds": t_cli, "x_overview": t_cli / t_overview, "x_trivial_pdf": t_cli / t_trivial},
    ]
    checks = [
        ("`fangkong brief` writes HTML, PDF and xlsx", cli_ok),
        (f"whole briefing for the demo township under {TARGET_S:.0f} s (in process)", t_whole < TARGET_S),
        (f"`fangkong brief` from a fresh process under {TARGET_S:.0f} s", t_cli < TARGET_S),
    ]
    ok = report("briefing", rows, checks)
    print(f"  files: HTML {sizes['.html']:.2f} MB, PDF {sizes['.pdf']:.2f} MB, xlsx {sizes['.xlsx']:.3f} MB")
    return ok
