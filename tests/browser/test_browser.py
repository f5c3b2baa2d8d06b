"""The dashboards in a real browser against a real server, as a user sees them.

One ``fangkong serve`` on the synthetic township runs for the whole session,
and one headless system Chromium; every test gets a fresh browser context, so
a fresh Voilà kernel. Screenshots go to test-output/<test name>/.

The map lives in a sandboxed ``srcdoc`` iframe: its features are counted
inside that frame (Leaflet draws SVG paths; grid cells, village outlines and
natural villages differ by stroke colour).
"""

from __future__ import annotations

import base64
import io
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from fangkong_lib import store

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import (
        RequestLog,
        build_demo_database,
        running_server,
        screenshot,
        status_text,
        wait_for_status,
    )
except ImportError:  # pragma: no cover
    from tests.browser_support import (
        RequestLog,
        build_demo_database,
        running_server,
        screenshot,
        status_text,
        wait_for_status,
    )

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What the synthetic township has (fangkong_lib/demo.py).
N_GRIDS, N_VILLAGES, N_NATURAL = 376, 17, 112
DEMO_DAY = "2022-04-07"

# Stroke colours of the map layers (fangkong_lib/views/maps.py).
GRID_STROKE, HIGHLIGHT_STROKE = "#8a8a8a", "#1f4e79"
VILLAGE_STROKE, NATURAL_STROKE = "#2f3b52", "#1d3557"
ZERO_FILL = "#f7f7f2"  # grid cell with nobody under control

KPI_KEYS = {
    "away", "arriving_3d", "arrived_today", "under_control", "集中隔离", "居家隔离", "居家健康监测",
    "三天两检", "tests_due", "tests_done_today", "tests_overdue", "fevers", "open_problems",
    "stock_items", "stock_value",
}

SEEN_MARK = "data-test-seen"  # set on a map iframe the test has already looked at
TIMEOUT_MS = 60_000  # a kernel start on a busy CI machine
MAP_QUIET_MS = 500  # a map that has not moved for this long has settled
VIEWPORT = {"width": 1500, "height": 1100}

MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])")

XSS_VILLAGE = """<img src=x onerror="document.title='pwned'">"""
XSS_NATURAL = """<img src=x onerror="document.title='pwned'">${document.title='pwned'}`"""


# -- Fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def server_url(chromium_path: str, demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the session's demo database (root conftest.py)."""
    # chromium_path first: without a browser there is no point starting a server.
    with running_server(demo_db, tmp_path_factory.mktemp("server")) as url:
        yield url


@pytest.fixture(scope="session")
def xss_db(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Path:
    """The demo township with a village and one of its natural villages
    renamed to HTML that runs code if anything renders it unescaped."""
    path = build_demo_database(tmp_path_factory.mktemp("xss") / "fangkong.sqlite", source=demo_db)
    _rename_in_sqlite(path, XSS_VILLAGE, XSS_NATURAL)
    return path


@pytest.fixture(scope="session")
def xss_server_url(chromium_path: str, xss_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(xss_db, tmp_path_factory.mktemp("xss-server")) as url:
        yield url


@pytest.fixture
def context(browser) -> Iterator:
    ctx = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def request_log(context) -> RequestLog:
    return RequestLog(context)


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught JavaScript errors of the test's page."""
    return []


@pytest.fixture
def page(context, request_log: RequestLog, page_errors: list[str]):
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    return page


# -- Helpers -------------------------------------------------------------------


def _rename_in_sqlite(path: Path, village_name: str, natural_name: str) -> None:
    """Rename the first village and its first natural village everywhere
    (every table's ``village`` / ``natural_village`` column)."""
    with closing(sqlite3.connect(path)) as conn, conn:
        old_village = conn.execute("SELECT name FROM villages ORDER BY id LIMIT 1").fetchone()[0]
        old_natural = conn.execute(
            "SELECT name FROM natural_villages WHERE village = ? ORDER BY id LIMIT 1", (old_village,)
        ).fetchone()[0]
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
            if "natural_village" in columns and "village" in columns:
                conn.execute(
                    f'UPDATE "{table}" SET natural_village = ? WHERE natural_village = ? AND village = ?',
                    (natural_name, old_natural, old_village),
                )
            if "village" in columns:
                conn.execute(f'UPDATE "{table}" SET village = ? WHERE village = ?', (village_name, old_village))
        conn.execute(
            "UPDATE natural_villages SET name = ? WHERE name = ? AND village = ?",
            (natural_name, old_natural, village_name),
        )
        conn.execute("UPDATE villages SET name = ? WHERE name = ?", (village_name, old_village))
        renamed = conn.execute("SELECT count(*) FROM grids WHERE natural_village = ?", (natural_name,)).fetchone()[0]
    assert renamed > 0, "the renamed natural village has no grid cells"


def kpi_value(page, key: str) -> int:
    text = page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text()
    return int(text.strip().replace(",", ""))


def map_frame(page, timeout_s: float = TIMEOUT_MS / 1000):
    """The frame of the map iframe once its map has loaded and stopped moving.

    Only an iframe not marked by :func:`change_filter` counts: a filter
    change replaces the iframe, and the old one must not be mistaken for the
    new one. The frame is reached through its element, because Chromium may
    move a sandboxed frame to another process and leave a stale entry in
    ``page.frames`` for a moment.
    """
    from playwright.sync_api import Error as PlaywrightError

    element = page.wait_for_selector(f"iframe.fk-map:not([{SEEN_MARK}])")
    # Browsers may hold back animation frames of a frame out of view.
    element.scroll_into_view_if_needed()
    deadline = time.monotonic() + timeout_s
    while True:
        frame = element.content_frame()
        try:
            loaded = frame is not None and frame.evaluate(
                "() => document.readyState === 'complete' && !!document.querySelector('.leaflet-container')"
            )
        except PlaywrightError:  # the frame is still being created or swapped
            loaded = False
        if loaded:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the map iframe did not load in {timeout_s} s")
        time.sleep(0.1)
    # The map refits itself once the frame has its size, with an animated
    # zoom: wait for a quiet spell with no movement.
    settled = frame.evaluate(
        """async ([quietMs, timeoutMs]) => {
            const map = Object.keys(window).filter(k => k.startsWith('map_'))
                .map(k => window[k]).find(v => v instanceof L.Map);
            const start = performance.now();
            let last = start;
            map.on('movestart zoomstart move zoom moveend zoomend', () => { last = performance.now(); });
            while (performance.now() - last < quietMs || document.querySelector('.leaflet-zoom-anim')) {
                if (performance.now() - start > timeoutMs) return false;
                await new Promise(resolve => setTimeout(resolve, 50));
            }
            return true;
        }""",
        [MAP_QUIET_MS, timeout_s * 1000],
    )
    assert settled, f"the map kept moving for {timeout_s} s"
    assert frame in page.frames, "the map frame is not among the page's frames"
    return frame


#: The versions the live maps (fangkong_lib/ui/livemap.js) show.
LIVE_VERSIONS = "() => [...document.querySelectorAll('.fk-live-map')].map(el => el.dataset.fkLiveVersion || '')"
#: True once every live map shows an update newer than ``before`` (its
#: :data:`LIVE_VERSIONS` before the change) and the last its page sent.
LIVE_MAPS_APPLIED = """before => [...document.querySelectorAll('.fk-live-map')].every((el, i) =>
    el.dataset.fkLiveWanted && el.dataset.fkLiveWanted !== before[i] && el.dataset.fkLiveVersion === el.dataset.fkLiveWanted)"""


def change_filter(page, change, *status_parts: str):
    """Run ``change`` (a filter action) and wait until the page shows the
    result (status line with ``status_parts``, no error, a live map showing
    the new state); returns the map frame (the same one for a live map)."""
    previous = status_text(page)
    page.locator("iframe.fk-map").evaluate(f"el => el.setAttribute('{SEEN_MARK}', '')")
    live_before = page.evaluate(LIVE_VERSIONS)
    change()
    wait_for_status(page, previous, *status_parts)
    page.wait_for_function(LIVE_MAPS_APPLIED, arg=live_before)
    # a live map keeps its iframe (and a new document is a new iframe)
    page.locator(f".fk-live-map iframe.fk-map[{SEEN_MARK}]").evaluate_all(
        f"els => els.forEach(el => el.removeAttribute('{SEEN_MARK}'))")
    return map_frame(page)


def map_features(frame) -> dict:
    """Counts of the map's drawn features, by layer, and the grid fill colours."""
    counts = frame.evaluate(
        """([grid, highlight, village, natural]) => {
            const out = {grids: 0, highlighted: 0, villages: 0, naturals: 0, other: 0, fills: {},
                         labels: document.querySelectorAll('.fk-label').length};
            for (const p of document.querySelectorAll('.leaflet-overlay-pane path')) {
                const stroke = p.getAttribute('stroke');
                if (stroke === grid || stroke === highlight) {
                    out.grids += 1;
                    if (stroke === highlight) out.highlighted += 1;
                    const fill = p.getAttribute('fill');
                    out.fills[fill] = (out.fills[fill] || 0) + 1;
                } else if (stroke === village) {
                    out.villages += 1;
                } else if (stroke === natural) {
                    out.naturals += 1;
                } else {
                    out.other += 1;
                }
            }
            return out;
        }""",
        [GRID_STROKE, HIGHLIGHT_STROKE, VILLAGE_STROKE, NATURAL_STROKE],
    )
    counts["fills"] = Counter(counts["fills"])
    return counts


def grid_tips(frame) -> dict[str, str]:
    """Grid code → the text of its tooltip, as the map would show it now."""
    return frame.evaluate(
        """() => {
            const map = Object.keys(window).filter(k => k.startsWith('map_'))
                .map(k => window[k]).find(v => v instanceof L.Map);
            const asText = html => new DOMParser().parseFromString(String(html), 'text/html').body.textContent;
            const out = {};
            map.eachLayer(layer => {
                const props = layer.feature && layer.feature.properties;
                if (layer._path && props && props.code) out[props.code] = asText(props.tip);
            });
            return out;
        }""")


def coloured_grids(features: dict) -> int:
    """Grid cells with at least one person under control (not the zero colour)."""
    return sum(n for fill, n in features["fills"].items() if fill != ZERO_FILL)


def village_table_rows(page) -> list[str]:
    """First cell of every body row of the per-village table."""
    return page.locator(".fk-village-table table tbody tr td:first-child").all_inner_texts()


def ledger_table(page) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the ledger table as shown."""
    return page.locator(".fk-ledger-table table").evaluate(
        """table => [
            [...table.querySelectorAll('thead th')].map(th => th.innerText.trim()),
            [...table.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim())),
        ]"""
    )


def status_count(text: str) -> int:
    """N of a ledger status line such as 返乡报备：520 行（…）."""
    match = re.search(r"：(\d+) 行", text)
    assert match, f"no row count in status line {text!r}"
    return int(match.group(1))


def injected_images(page) -> list[str]:
    """``img[src=x]`` elements in the page and in every frame."""
    found = []
    for frame in page.frames:
        if not frame.is_detached() and frame.locator('img[src="x"]').count():
            found.append(frame.url)
    return found


def hover_grid_of(frame, natural_name: str) -> None:
    """Move the mouse onto a grid cell of the natural village ``natural_name``:
    a point well inside the polygon (not merely inside its bounding box)."""
    target = frame.evaluate(
        """(name) => {
            const map = Object.keys(window).filter(k => k.startsWith('map_'))
                .map(k => window[k]).find(v => v instanceof L.Map);
            const paths = [...document.querySelectorAll('.leaflet-overlay-pane path')];
            const asText = html => new DOMParser().parseFromString(String(html), 'text/html').body.textContent;
            const cells = [];
            map.eachLayer(layer => {
                const props = layer.feature && layer.feature.properties;
                if (layer._path && props && props.code && asText(props.tip).includes(name)) cells.push(layer._path);
            });
            // Largest first; a point whose neighbours 4 px away hit the same cell.
            const area = p => { const r = p.getBoundingClientRect(); return r.width * r.height; };
            cells.sort((a, b) => area(b) - area(a));
            const hits = (p, x, y) => document.elementFromPoint(x, y) === p;
            for (const path of cells) {
                const r = path.getBoundingClientRect();
                for (let i = 1; i < 16; i++) {
                    for (let j = 1; j < 16; j++) {
                        const x = r.left + r.width * i / 16, y = r.top + r.height * j / 16;
                        if ([[0, 0], [4, 0], [-4, 0], [0, 4], [0, -4]].every(([dx, dy]) => hits(path, x + dx, y + dy))) {
                            return {cells: cells.length, index: paths.indexOf(path), x: x - r.left, y: y - r.top};
                        }
                    }
                }
            }
            return {cells: cells.length, index: -1};
        }""",
        natural_name,
    )
    assert target["index"] >= 0, f"no grid cell to hover among {target['cells']} naming {natural_name!r}"
    frame.locator(".leaflet-overlay-pane path").nth(target["index"]).hover(
        position={"x": target["x"], "y": target["y"]}
    )




def open_overview(page, url: str):
    """Open the overview at ``url``; returns the loaded map frame."""
    page.goto(url)
    page.wait_for_url(re.compile(r"/voila/render/overview\.ipynb$"))
    page.locator('.fk-kpi[data-kpi="under_control"] .fk-kpi-value').wait_for()
    page.locator("iframe.fk-map").wait_for()
    return map_frame(page)


# -- Tests ---------------------------------------------------------------------


def test_overview_shows_the_whole_township_offline(
    page, request_log: RequestLog, page_errors: list[str], server_url: str, output_dir: Path
) -> None:
    frame = open_overview(page, server_url)

    features = map_features(frame)
    screenshot(page, output_dir / "overview.png")
    assert features["grids"] == N_GRIDS
    assert features["highlighted"] == 0
    assert features["villages"] == N_VILLAGES
    assert features["naturals"] == N_NATURAL
    assert features["labels"] == N_VILLAGES
    # Demo day: people are under control, and the map shows where.
    assert kpi_value(page, "under_control") > 0
    assert coloured_grids(features) > 0

    shown = set(page.locator(".fk-kpi").evaluate_all("cards => cards.map(c => c.dataset.kpi)"))
    assert KPI_KEYS <= shown, KPI_KEYS - shown
    assert page.locator(".fk-filter-day input").input_value() == DEMO_DAY
    status = status_text(page)
    assert status.startswith("已更新") and "出错" not in status, status
    assert "合成演示数据" in page.locator(".fk-synthetic").inner_text()
    assert page.locator(".fk-village-table table tbody tr").count() == N_VILLAGES + 1  # + 合计

    # The log sees the page's own traffic, websocket included, and nothing else.
    assert any(url.startswith(server_url) for url in request_log.urls)
    assert any(url.startswith("ws://127.0.0.1") for url in request_log.urls)
    assert request_log.remote() == []
    assert page_errors == []


def test_overview_filters_update_figures_and_map(
    page, page_errors: list[str], server_url: str, demo_db: Path, output_dir: Path
) -> None:
    frame = open_overview(page, server_url)
    all_people = kpi_value(page, "under_control")
    before = map_features(frame)
    screenshot(page, output_dir / "1-all.png")

    # One control measure: fewer people, the map recoloured.
    measure = page.locator(".fk-filter-measure select")
    frame = change_filter(page, lambda: measure.select_option(label="集中隔离"), "集中隔离")
    isolated = map_features(frame)
    screenshot(page, output_dir / "2-measure.png")
    under_control = kpi_value(page, "under_control")
    assert 0 < under_control < all_people
    assert under_control == kpi_value(page, "集中隔离")
    assert isolated["grids"] == N_GRIDS
    assert isolated["fills"] != before["fills"]
    assert 0 < coloured_grids(isolated) < coloured_grids(before)

    # One village: its row and the total; its cells outlined on the map.
    village = page.locator(".fk-filter-village select option").nth(2).inner_text()
    grids = store.load_ledger(store.get_engine(str(demo_db)), "grids")
    village_grids = int((grids["village"] == village).sum())
    assert village_grids > 0
    villages = page.locator(".fk-filter-village select")
    page.locator("iframe.fk-map").evaluate("el => { el.__fkSameFrame = true; }")
    tips_before = grid_tips(frame)
    frame = change_filter(page, lambda: villages.select_option(label=village), village, "集中隔离")
    one_village = map_features(frame)
    screenshot(page, output_dir / "3-village.png")
    assert village_table_rows(page) == [village, "合计"]
    assert one_village["grids"] == N_GRIDS
    assert one_village["highlighted"] == village_grids
    # the live map: the same iframe (no new document), updated in place to the new state
    assert page.locator("iframe.fk-map").count() == 1
    assert page.locator("iframe.fk-map").evaluate("el => el.__fkSameFrame === true")
    # only the village's people count now: fewer cells coloured, the map shows it
    assert one_village["fills"] != isolated["fills"] and coloured_grids(one_village) < coloured_grids(isolated)
    assert village in frame.locator(".fk-panel.fk-topleft").inner_text()

    # Before anyone came back: nobody under control, every cell the zero colour.
    day = page.locator(".fk-filter-day input")
    frame = change_filter(page, lambda: day.fill("2022-03-01"), "2022-03-01")
    early = map_features(frame)
    screenshot(page, output_dir / "4-early-date.png")
    assert page.locator("iframe.fk-map").evaluate("el => el.__fkSameFrame === true")  # still updated in place
    early_tips = grid_tips(frame)  # the tooltips too: nobody under control in any cell
    assert early_tips.keys() == tips_before.keys() and early_tips != tips_before
    assert all(tip.endswith("管控中：0 人") for tip in early_tips.values())
    assert kpi_value(page, "under_control") == 0
    assert early["grids"] == N_GRIDS
    assert early["highlighted"] == village_grids
    assert coloured_grids(early) == 0
    assert page_errors == []


def test_clicking_a_kpi_card_opens_the_list_it_counts(
    page, page_errors: list[str], server_url: str, output_dir: Path
) -> None:
    """Issue 11.8: a click on 逾期未检 shows the people whose test is overdue,
    as many as the card says; a second click puts the list away."""
    open_overview(page, server_url)
    overdue = kpi_value(page, "tests_overdue")
    assert overdue > 0
    listing = page.locator(".fk-kpi-list")
    assert not listing.is_visible()
    card = page.locator(".fk-kpi-card", has=page.locator('.fk-kpi[data-kpi="tests_overdue"]'))
    card.click()
    listing.locator(".fk-kpi-list-title", has_text="逾期未检").wait_for()
    rows = listing.locator(".fk-kpi-list-body table tbody tr")
    rows.first.wait_for()
    screenshot(page, output_dir / "kpi-list.png")
    assert rows.count() == overdue
    assert listing.locator(".fk-kpi-list-title").inner_text().strip() == f"逾期未检（{overdue}）"
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", listing.inner_text())  # ID numbers masked
    card.click()
    listing.wait_for(state="hidden")
    assert page_errors == []


def test_ledger_page_filters_masks_and_exports(
    page, request_log: RequestLog, page_errors: list[str], server_url: str, demo_db: Path,
    output_dir: Path,
) -> None:
    from openpyxl import load_workbook

    page.goto(server_url + "voila/render/ledgers.ipynb")
    page.locator(".fk-ledger-table table").wait_for()
    page.locator(".fk-filter-ledger select").select_option(label="返乡报备")
    status = wait_for_status(page, "", "返乡报备")
    total = status_count(status)
    header, rows = ledger_table(page)
    screenshot(page, output_dir / "1-returnees.png")
    assert total == store.count_rows(store.get_engine(str(demo_db)), "returnees")
    assert len(rows) == min(total, 200)

    # A village name as the query: at least that village's returnees match.
    returnees = store.load_ledger(store.get_engine(str(demo_db)), "returnees")
    query = returnees["village"].value_counts().index[-1]
    own_rows = int((returnees["village"] == query).sum())
    page.locator(".fk-filter-query input").fill(query)
    page.locator(".fk-filter-query input").press("Enter")
    status = wait_for_status(page, status, "返乡报备")
    found = status_count(status)
    header, rows = ledger_table(page)
    screenshot(page, output_dir / "2-query.png")
    assert own_rows <= found < total
    assert len(rows) == min(found, 200)
    assert all(query in " ".join(row) for row in rows)

    id_col, phone_col = header.index("身份证号"), header.index("手机号")
    assert [row[id_col] for row in rows if not MASKED_ID.match(row[id_col])] == []
    assert [row[phone_col] for row in rows if not MASKED_PHONE.match(row[phone_col])] == []
    assert UNMASKED_ID.findall(page.locator("body").inner_text()) == []

    # Export: a masked workbook of exactly the rows found.
    page.locator(".fk-export-xlsx").click()
    link = page.locator("a.fk-download-link")
    link.wait_for()
    href = link.get_attribute("href")
    assert href.startswith("data:application/vnd.openxmlformats")
    assert "返乡报备" in link.get_attribute("download")
    content = base64.b64decode(href.split(",", 1)[1])
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    assert Path(download.path()).read_bytes() == content
    screenshot(page, output_dir / "3-export.png")

    sheet = load_workbook(io.BytesIO(content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "脱敏" in str(values[0][0])
    assert values[1][id_col] == "身份证号"
    assert len(values) - 2 == found
    assert all(MASKED_ID.match(str(row[id_col])) for row in values[2:])
    all_text = "\n".join(str(v) for row in values for v in row if v is not None)
    assert UNMASKED_ID.findall(all_text) == []

    # The app's navigation names every page, this one current; the overview
    # opens from here in the same page, and the address bar follows it.
    titles = page.locator(".fk-nav .fk-nav-item").all_inner_texts()
    assert {"态势总览", "台账查询与导出"} <= set(titles) and len(set(titles)) == len(titles), titles
    assert page.locator(".fk-nav .fk-nav-item.fk-current").inner_text() == "台账查询与导出"
    page.locator(".fk-nav .fk-nav-item", has_text="态势总览").click()
    page.wait_for_url(re.compile(r"/voila/render/overview\.ipynb$"))
    page.locator('.fk-kpi[data-kpi="under_control"]').wait_for()
    assert request_log.remote() == []
    assert page_errors == []


def tables_cut_off(page) -> list[dict]:
    """Tables whose scroll box sticks out of its widget: the columns beyond
    the page edge can be neither seen nor scrolled to."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.fk-table-wrap')].map(wrap => ({
            widget: wrap.closest('.widget-html').className,
            wrap_right: Math.round(wrap.getBoundingClientRect().right),
            widget_right: Math.round(wrap.closest('.widget-html').getBoundingClientRect().right),
        })).filter(t => t.wrap_right > t.widget_right + 1)"""
    )


def test_wide_tables_scroll_inside_their_box(page, server_url: str, output_dir: Path) -> None:
    page.goto(server_url + "voila/render/ledgers.ipynb")
    page.locator(".fk-ledger-table table").wait_for()
    ledger_cut = tables_cut_off(page)
    screenshot(page, output_dir / "ledgers.png")

    open_overview(page, server_url)
    page.locator(".fk-actions table.fk-people").wait_for()
    overview_cut = tables_cut_off(page)
    screenshot(page, output_dir / "overview.png")

    assert ledger_cut == []
    assert overview_cut == []


def test_names_from_the_data_are_shown_as_text_not_run(
    page, request_log: RequestLog, page_errors: list[str], xss_server_url: str, output_dir: Path
) -> None:
    frame = open_overview(page, xss_server_url)

    # Labels and tooltips show the names literally.
    assert XSS_VILLAGE in frame.locator(".fk-label").all_inner_texts()
    hover_grid_of(frame, XSS_NATURAL)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.wait_for()
    screenshot(page, output_dir / "1-tooltip.png")
    tip = tooltip.inner_text()
    assert "<img src=x" in tip
    assert XSS_VILLAGE in tip and XSS_NATURAL in tip
    assert XSS_VILLAGE in page.locator(".fk-village-table").inner_text()

    # The village chosen in the filter: table, map title, status line.
    villages = page.locator(".fk-filter-village select")
    frame = change_filter(page, lambda: villages.select_option(label=XSS_VILLAGE), XSS_VILLAGE)
    screenshot(page, output_dir / "2-village.png")
    assert village_table_rows(page) == [XSS_VILLAGE, "合计"]
    assert XSS_VILLAGE in frame.locator(".fk-panel").first.inner_text()

    assert injected_images(page) == []
    assert page.title() != "pwned"
    assert frame.evaluate("() => document.title") != "pwned"
    assert [url for url in request_log.urls if url.rstrip("/").endswith("/x")] == []
    assert request_log.remote() == []
    assert page_errors == []
