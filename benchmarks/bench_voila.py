"""The dashboards in a real browser, against a bare Voilà widget notebook
served the same way and measured in the same run.

- time-to-map: open the overview until its map iframe is there and Leaflet
  has drawn its container, against opening ``notebooks/bare_widget.ipynb``
  (one button, one label) until its button shows. Target ≤ 1.5×.
- filter round trip: pick a village on the overview until the KPIs, the
  table (the status line the page model writes last) and the map show the
  new village (the live map has applied the update the page sent: its
  iframe posts back the version it shows; a map that is not live must be a
  new, loaded iframe), against a click on the bare button until its label
  changes (a kernel round trip). Target ≤ 5×.
- kernel memory: resident memory of the overview's kernel, and of every
  kernel after several pages were opened, against the bare notebook's
  kernel. Target ≤ 300 MB (the issue's target is at county scale).
- map size: bytes of the overview map (the iframe's ``srcdoc``). Target ≤ 2 MB.

The database: the synthetic township (default), ``--db PATH_OR_URL`` (or
``FANGKONG_BENCH_DB``) for any database, or ``--scale county`` to build the
county demo with ``fangkong demo --scale county`` first.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from fangkong_lib.config import JUPYTER_DATA_DIR, REPO_DIR

from .common import database, report

sys.path.insert(0, str(REPO_DIR / "tests"))
from browser_support import _descendants, _stop, free_port, launch_chromium, running_server  # noqa: E402

BARE_DIR = Path(__file__).resolve().parent / "notebooks"
OVERVIEW = "voila/render/overview.ipynb"
BARE = "voila/render/bare_widget.ipynb"
#: Pages opened one after the other (each in its own tab, kept open) for the memory figure.
PAGES = ["overview.ipynb", "returnees.ipynb", "command.ipynb", "grids.ipynb", "ledgers.ipynb"]
REPEAT = 3
TIMEOUT_MS = 180_000
TARGETS = {"time_to_map": 1.5, "filter": 5.0, "kernel_MB": 300, "map_MB": 2.0}


@contextmanager
def bare_server(workdir: Path):
    """Voilà serving the bare notebook, configured as ``fangkong serve`` is
    (the repository's voila.json, the fangkong template, a fresh kernel per view)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(workdir / "jupyter-runtime"),
           "JUPYTER_PATH": os.pathsep.join(p for p in (str(JUPYTER_DATA_DIR), os.environ.get("JUPYTER_PATH")) if p)}
    with (workdir / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "voila", str(BARE_DIR), "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--template=fangkong"],
            cwd=REPO_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + BARE, timeout=30):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"bare Voilà did not start; see {workdir / 'server.log'}") from None
                time.sleep(0.3)
        yield base, server.pid
    finally:
        _stop(server)


def kernels(server_pid: int) -> dict[int, float]:
    """Resident memory (MB) of each kernel process of the server."""
    import psutil

    out = {}
    for pid in _descendants(server_pid):
        try:
            proc = psutil.Process(pid)
            if "ipykernel" in " ".join(proc.cmdline()):
                out[pid] = proc.memory_info().rss / 1e6
        except psutil.Error:
            continue
    return out


def _server_pid_of(port_url: str) -> int:
    """The process listening on the URL's port (the ``fangkong serve`` started by running_server)."""
    import psutil

    port = int(port_url.rstrip("/").rsplit(":", 1)[1])
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return conn.pid
    raise RuntimeError(f"no process listens on {port_url}")


def _map_loaded(page):
    """Wait until a map iframe not marked as seen (iframes are replaced on
    a filter change) has drawn its Leaflet container; returns the iframe
    element. The iframe is sandboxed: it is looked into through its frame."""
    from playwright.sync_api import Error as PlaywrightError

    element = page.wait_for_selector("iframe.fk-map:not([data-bench-seen])", timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        frame = element.content_frame()
        try:
            if frame is not None and frame.evaluate(
                    "() => document.readyState === 'complete' && !!document.querySelector('.leaflet-container')"):
                return element
        except PlaywrightError:  # the frame is still being created or swapped
            pass
        time.sleep(0.02)
    raise RuntimeError("the map iframe did not load")


#: The versions the live maps (fangkong_lib/ui/livemap.js) show.
LIVE_VERSIONS = "() => [...document.querySelectorAll('.fk-live-map')].map(el => el.dataset.fkLiveVersion || '')"
#: Every live map shows an update newer than the one it showed before (``before``)
#: and the last its page sent.
LIVE_MAPS_APPLIED = """before => { const maps = [...document.querySelectorAll('.fk-live-map')];
    return maps.length > 0 && maps.every((el, i) => el.dataset.fkLiveWanted && el.dataset.fkLiveWanted !== before[i]
                                          && el.dataset.fkLiveVersion === el.dataset.fkLiveWanted); }"""


def _map_shown(page, before: list[str]) -> None:
    """Wait until the map shows what the page computed: a live map has
    applied an update newer than the one it showed ``before`` the change
    (:data:`LIVE_VERSIONS`) and the last one the page sent; another map is a
    new iframe that has loaded."""
    if before:
        page.wait_for_function(LIVE_MAPS_APPLIED, arg=before, timeout=TIMEOUT_MS)
    else:
        _map_loaded(page)


def _status(page) -> str:
    return page.evaluate("() => { const el = document.querySelector('.fk-status'); return el ? el.innerText.trim() : ''; }")


def time_to_widget(browser, base: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    start = time.perf_counter()
    page.goto(base + BARE, timeout=TIMEOUT_MS)
    page.locator(".bench-button").wait_for(timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def time_to_map(browser, base: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(base + OVERVIEW, timeout=TIMEOUT_MS)
    _map_loaded(page)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def bare_round_trips(browser, base: str, n: int) -> list[float]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + BARE, timeout=TIMEOUT_MS)
    button = page.locator(".bench-button")
    button.wait_for(timeout=TIMEOUT_MS)
    times = []
    for i in range(n + 1):
        start = time.perf_counter()
        button.click()
        page.wait_for_function("n => document.querySelector('.bench-count').innerText.trim() === String(n)",
                               arg=i + 1, timeout=TIMEOUT_MS)
        times.append(time.perf_counter() - start)
    context.close()
    return times[1:]  # the first click warms the kernel's handler up


def filter_round_trips(browser, base: str, n: int) -> tuple[list[float], int]:
    """Village filter changes on the overview; also returns the map's bytes (whole area)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(base + OVERVIEW, timeout=TIMEOUT_MS)
    frame = _map_loaded(page)
    map_bytes = frame.evaluate("el => new Blob([el.srcdoc || '']).size")
    select = page.locator(".fk-filter-village select").first
    if not page.locator(".fk-filter-village select").count():  # a county database opens on 全县态势
        select = page.locator(".fk-county-measure select").first  # its filter: the figure the map shows
    options = select.locator("option").all_inner_texts()
    villages = [o for o in options[1:] if o.strip()][: n + 1]
    times = []
    for village in villages:
        previous = _status(page)
        page.locator("iframe.fk-map").evaluate_all("els => els.forEach(el => el.setAttribute('data-bench-seen', ''))")
        live_before = page.evaluate(LIVE_VERSIONS)
        start = time.perf_counter()
        select.select_option(label=village)
        page.wait_for_function(
            "([prev, v]) => { const el = document.querySelector('.fk-status');"
            " const t = el ? el.innerText.trim() : ''; return t && t !== prev && (t.includes(v) || t.includes('出错')); }",
            arg=[previous, village], timeout=TIMEOUT_MS)
        _map_shown(page, live_before)
        times.append(time.perf_counter() - start)
        if "出错" in _status(page):
            raise RuntimeError(f"the overview reports an error: {_status(page)}")
    context.close()
    return times[1:], map_bytes  # the first change warms the kernel's caches up


def page_memory(browser, base: str, server_pid: int) -> list[dict]:
    """Open the pages one after the other, each tab kept open; after each,
    the resident memory of every kernel of the server."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    rows = []
    for name in PAGES:
        page = context.new_page()
        page.goto(f"{base}voila/render/{name}", timeout=TIMEOUT_MS)
        page.wait_for_function("() => { const el = document.querySelector('.fk-status');"
                               " return (el && el.innerText.trim().length > 0)"
                               " || document.querySelector('.fk-choose-township'); }",  # a county page asks for a township
                               timeout=TIMEOUT_MS)
        time.sleep(1.0)  # let the kernel settle (garbage, late widgets)
        mem = kernels(server_pid)
        rows.append({"after": name, "kernels": len(mem), "largest_MB": max(mem.values(), default=0.0),
                     "total_MB": sum(mem.values())})
    context.close()
    return rows


def run() -> bool:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("FANGKONG_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        print(f"\n== voila\n  skipped: Chromium not found at {chromium}")
        return False
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp)) as (db, label):
        tmp = Path(tmp)
        with bare_server(tmp / "bare") as (bare, bare_pid), running_server(db, tmp / "serve") as base, \
                sync_playwright() as pw:
            browser = launch_chromium(pw, chromium)
            try:
                serve_pid = _server_pid_of(base)
                time_to_widget(browser, bare)  # warm-ups: the first kernel of each server, disk caches
                time_to_map(browser, base)
                t_widget = statistics.median(time_to_widget(browser, bare) for _ in range(REPEAT))
                bare_kernel = max(kernels(bare_pid).values(), default=0.0)
                t_map = statistics.median(time_to_map(browser, base) for _ in range(REPEAT))
                rt_bare = statistics.median(bare_round_trips(browser, bare, 5))
                rt_filter, map_bytes = filter_round_trips(browser, base, REPEAT)
                rt_filter = statistics.median(rt_filter)
            finally:
                browser.close()
        # The memory figure wants a server of its own: no kernel of the timings above.
        with running_server(db, tmp / "serve-mem") as base, sync_playwright() as pw:
            browser = launch_chromium(pw, chromium)
            try:
                memory = page_memory(browser, base, _server_pid_of(base))
            finally:
                browser.close()
    overview_kernel = memory[0]["largest_MB"]
    largest = max(r["largest_MB"] for r in memory)
    rows = [
        {"case": "bare widget notebook: time to widget (baseline)", "value": t_widget, "unit": "s", "ratio": 1.0},
        {"case": "overview: time to map", "value": t_map, "unit": "s", "ratio": t_map / t_widget},
        {"case": "bare widget: click round trip (baseline)", "value": rt_bare, "unit": "s", "ratio": 1.0},
        {"case": "overview: village filter → KPIs, table, map", "value": rt_filter, "unit": "s",
         "ratio": rt_filter / rt_bare},
        {"case": "bare widget kernel RSS (baseline)", "value": bare_kernel, "unit": "MB", "ratio": 1.0},
        {"case": "overview kernel RSS", "value": overview_kernel, "unit": "MB", "ratio": overview_kernel / bare_kernel},
        *({"case": f"  after {r['after']}: largest of {r['kernels']} kernel(s), total {r['total_MB']:.0f} MB",
           "value": r["largest_MB"], "unit": "MB", "ratio": r["largest_MB"] / bare_kernel} for r in memory),
        {"case": "overview map (iframe srcdoc)", "value": map_bytes / 1e6, "unit": "MB", "ratio": float("nan")},
    ]
    checks = [
        (f"[{label}] overview time-to-map ≤ {TARGETS['time_to_map']}× the bare widget", t_map <= TARGETS["time_to_map"] * t_widget),
        (f"[{label}] filter round trip ≤ {TARGETS['filter']:.0f}× the bare widget round trip", rt_filter <= TARGETS["filter"] * rt_bare),
        (f"[{label}] page kernel memory ≤ {TARGETS['kernel_MB']} MB (largest kernel)", largest <= TARGETS["kernel_MB"]),
        (f"[{label}] overview map ≤ {TARGETS['map_MB']:.0f} MB", map_bytes / 1e6 <= TARGETS["map_MB"]),
    ]
    return report(f"voila-{label}", rows, checks)
