"""Nothing typed into a ledger runs as script anywhere in the dashboards.

The demo township gets hostile values (HTML that runs code, a script tag
breaking out of an attribute, template-literal and backtick breakouts,
``javascript:`` URLs, a spreadsheet formula) in every free-text field of
every ledger: for a sample of rows that includes the first and the last rows
of each ledger (the ones pages show first) and, through consistent renames,
in the names other ledgers refer to (a village, a natural village, a grid
cell, a place, a problem, a donated item whose 单位 is hostile, a store).
Every dashboard is then opened in the real browser, one after the other
through the app's navigation in one page and one kernel (as a user goes
through them); every drop-down is played through and every map's features
hovered and clicked. The page and every frame must never set
``window.__xss``, and no dialog may open.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from fangkong_lib.ledgers import LEDGERS
from fangkong_lib.ui.common import PAGES, available_pages

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import build_demo_database, kernel_count, running_server, screenshot
except ImportError:  # pragma: no cover
    from tests.browser_support import build_demo_database, kernel_count, running_server, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOADS = (
    "<img src=x onerror=window.__xss=1>",
    '"><script>window.__xss=1</script>',
    "${window.__xss=1}",
    "`+(window.__xss=1)+`",
    "javascript:window.__xss=1",
    '=HYPERLINK("http://x","点击")',
    "'><svg onload=window.__xss=1>",
)
DASHBOARDS = ("overview", "places", "returnees", "supervision", "supplies", "ledgers", "briefing", "import",
              "gatherings", "publicity", "command")
DASHBOARDS += ("checkpoints", "sentinels")
DASHBOARDS += ("grids", "leads", "volunteers")
TIMEOUT_MS = 90_000
#: Rows at each end of a ledger that always get hostile values.
EDGE_ROWS = 15
#: Options tried per drop-down (those showing a hostile value first: an
#: ordinary option after them renders the same escaping path again).
OPTIONS_PER_SELECT = 3
#: Map features hovered and clicked per map, spread over all its features
#: (every feature's tooltip and popup come from the same builder).
FEATURES_PER_MAP = 6
#: A pause after each interaction so the kernel's answer reaches the page.
SETTLE_MS = 400

#: Values other ledgers refer to: renamed in every listed column at once, so
#: joins still hold. (table, column of the referred value, referring columns.)
REFERENCES = (
    ("villages", "name", "village"),
    ("natural_villages", "name", "natural_village"),
    ("grids", "code", "grid"),
    ("places", "code", "place_code"),
    ("problems", "problem_no", "problem_no"),
    ("donations", "item", "item"),
    ("donations", "location", "location"),
    ("duty_posts", "name", "post"),
)


def _hostile(index: int, row_id: int) -> str:
    """A hostile value, unique per row (natural keys stay unique)."""
    return f"{PAYLOADS[index % len(PAYLOADS)]}{row_id}"


def _rename_references(conn) -> None:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for n, (table, column, referring) in enumerate(REFERENCES):
        old = conn.execute(f'SELECT "{column}" FROM "{table}" ORDER BY id LIMIT 1').fetchone()[0]
        new = _hostile(n, 0)
        conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE "{column}" = ?', (new, old))
        for other in tables:
            columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{other}")')}
            if referring in columns and not (other == table and referring == column):
                conn.execute(f'UPDATE "{other}" SET "{referring}" = ? WHERE "{referring}" = ?', (new, old))


def _free_text_fields(ledger) -> list[str]:
    """Text a person types freely (not a choice list, not a referred name)."""
    referred = {(t, c) for t, c, _ in REFERENCES} | {(led, ref) for _, _, ref in REFERENCES for led in LEDGERS}
    return [f.key for f in ledger.fields
            if f.type in ("text", "list") and not f.choices and (ledger.key, f.key) not in referred]


def poison(path: Path) -> None:
    """Hostile values into every free-text field of every ledger, for the
    first and last rows and every fourth row in between."""
    with closing(sqlite3.connect(path)) as conn, conn:
        _rename_references(conn)
        for ledger in LEDGERS.values():
            fields = _free_text_fields(ledger)
            ids = [r[0] for r in conn.execute(f'SELECT id FROM "{ledger.key}" ORDER BY id')]
            chosen = set(ids[:EDGE_ROWS]) | set(ids[-EDGE_ROWS:]) | set(ids[::4])
            for row_id in sorted(chosen):
                values = {key: _hostile(i + row_id, row_id) for i, key in enumerate(fields)}
                if ledger.key == "controls" and "test_dates" in values:
                    values.pop("test_dates")  # a date list; bad dates are another test's business
                if not values:
                    continue
                sets = ", ".join(f'"{k}" = ?' for k in values)
                conn.execute(f'UPDATE "{ledger.key}" SET {sets} WHERE id = ?', (*values.values(), row_id))
        unit = conn.execute("SELECT unit FROM donations ORDER BY id LIMIT 1").fetchone()[0]
        assert any(unit.startswith(p) for p in PAYLOADS), "the first donation's 单位 is hostile"


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory, demo_db: Path) -> Path:
    """A copy of the session's demo database, poisoned. Read only."""
    db = build_demo_database(tmp_path_factory.mktemp("hostile-db") / "fangkong.sqlite", source=demo_db)
    poison(db)
    return db


@pytest.fixture(scope="module")
def hostile_server(chromium_path: str, hostile_db: Path, tmp_path_factory) -> Iterator[str]:
    with running_server(hostile_db, tmp_path_factory.mktemp("hostile-server"), "--no-preheat") as url:
        yield url


def _xss_anywhere(page) -> list[str]:
    """The frames (the page included) where ``window.__xss`` got set."""
    hits = []
    for frame in page.frames:
        try:
            if frame.evaluate("() => window.__xss !== undefined"):
                hits.append(frame.url[:80] or "(page)")
        except Exception:  # a frame being replaced: it is checked again next time
            pass
    return hits


def _shows_payload_as_text(page) -> bool:
    """True when a hostile value is on screen as text somewhere (page or frame)."""
    for frame in page.frames:
        try:
            if frame.evaluate("() => (document.body && document.body.innerText || '').includes('__xss')"):
                return True
        except Exception:
            pass
    return False


def _play_selects(page) -> int:
    """Choose options in every drop-down, hostile ones first; returns how many were chosen."""
    chosen = 0
    for index in range(page.locator("select").count()):
        select = page.locator("select").nth(index)
        try:
            if not select.is_visible() or select.is_disabled():
                continue
            options = select.evaluate("s => Array.from(s.options).map(o => [o.value, o.textContent])")
        except Exception:  # the widget was re-rendered under us
            continue
        hostile = [o for o in options if any(p[:6] in (o[1] or "") for p in PAYLOADS)]
        ordinary = [o for o in options if o not in hostile]
        for value, _label in (hostile + ordinary)[:OPTIONS_PER_SELECT]:
            try:
                select.select_option(value=value, timeout=5_000)
            except Exception:
                continue
            chosen += 1
            page.wait_for_timeout(SETTLE_MS)
    return chosen


def _play_maps(page) -> int:
    """Hover and click features inside every map iframe; returns how many.

    A filter chosen just before may still be redrawing a map: a frame that is
    replaced under us (detached, or its target closed) is looked up again (a
    few times) rather than skipped."""
    touched = 0
    for index in range(page.locator("iframe.fk-map").count()):
        for _attempt in range(3):
            try:
                touched += _play_map(page.locator("iframe.fk-map").nth(index))
                break
            except Exception as error:  # noqa: BLE001 - only a replaced frame is retried
                if "detached" not in str(error) and "closed" not in str(error):
                    raise
                page.wait_for_timeout(4 * SETTLE_MS)
        page.wait_for_timeout(SETTLE_MS)
    return touched


def _play_map(element) -> int:
    try:
        element.scroll_into_view_if_needed(timeout=5_000)
        frame = element.element_handle().content_frame()
        frame.wait_for_selector(".leaflet-container", timeout=TIMEOUT_MS)
    except Exception:
        return 0
    touched = 0
    features = frame.locator(".leaflet-interactive, .leaflet-marker-pane > *")
    count = min(features.count(), FEATURES_PER_MAP)
    for n in range(count):
        feature = features.nth(n * max(1, features.count() // max(count, 1)))
        try:
            feature.hover(force=True, timeout=3_000)
            feature.click(force=True, timeout=3_000)
        except Exception:  # hidden under another feature, or off the map
            continue
        touched += 1
    return touched


def _open_tabs(page) -> None:
    tabs = page.locator(".lm-TabBar-tab, .p-TabBar-tab")
    for n in range(tabs.count()):
        try:
            tabs.nth(n).click(timeout=3_000)
            page.wait_for_timeout(SETTLE_MS)
        except Exception:
            continue


TITLES = {f.removesuffix(".ipynb"): t for f, t in PAGES}


@pytest.fixture(scope="module")
def app_page(browser, hostile_server):
    """One tab on the app (one kernel) that every dashboard of the sweep is
    opened in through the navigation, and the dialogs it opened."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{hostile_server}voila/render/{DASHBOARDS[0]}.ipynb")
        page.locator(".fk-nav .fk-nav-item.fk-current").wait_for()
        yield page, dialogs
    finally:
        context.close()


def _open_dashboard(page, dashboard: str) -> None:
    """Show ``dashboard`` through the app's navigation and wait for its status line."""
    title = TITLES[dashboard]
    page.locator(".fk-nav .fk-nav-item", has_text=title).first.click()
    page.wait_for_function(
        """(title) => {
            const current = document.querySelector('.fk-nav .fk-nav-item.fk-current');
            return current && current.innerText.trim() === title
                && !!document.querySelector('.fk-app-content .fk-page .fk-status');
        }""", arg=title)
    page.locator(".fk-app-content .fk-status").first.wait_for()


@pytest.mark.parametrize("dashboard", DASHBOARDS)
def test_hostile_values_never_run(dashboard, app_page, output_dir):
    page, dialogs = app_page
    _open_dashboard(page, dashboard)
    page.wait_for_timeout(SETTLE_MS)
    assert _xss_anywhere(page) == [] and dialogs == [], "script ran on opening"
    _open_tabs(page)
    selects = _play_selects(page)
    maps = _play_maps(page)
    _open_tabs(page)
    screenshot(page, output_dir / f"{dashboard}.png")
    hits = _xss_anywhere(page)
    assert hits == [] and dialogs == [], (
        f"{dashboard}: script from the data ran in {hits}, dialogs {dialogs} "
        f"(after {selects} drop-down choices and {maps} map features)")
    # The test really played, and the hostile data really reached the page.
    if dashboard != "briefing":  # the briefing page has a date and buttons, no drop-down or map
        assert selects + maps > 0, f"{dashboard}: nothing to play with"
    if dashboard != "import":  # the import page shows no stored data until a file comes
        assert _shows_payload_as_text(page), f"{dashboard}: no hostile value on screen"


def test_the_sweep_opened_every_page_in_one_kernel(app_page, hostile_server):
    """Guards the sweep: every page of the app was played, all in the one kernel."""
    page, _dialogs = app_page
    # every page of the single PC's navigation (the users admin page is a county login's only)
    assert set(DASHBOARDS) == {f.removesuffix(".ipynb") for f, _ in available_pages()}
    assert kernel_count(hostile_server) == 1


def test_the_check_notices_script_in_a_sandboxed_map_frame(browser):
    """Guards the test above: a payload that runs, in the page or in a frame
    sandboxed like the maps, is seen, and so is a dialog."""
    context = browser.new_context()
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.set_content('<iframe class="fk-map" sandbox="allow-scripts" '
                         'srcdoc="<img src=x onerror=window.__xss=1>"></iframe>')
        page.wait_for_function("() => document.querySelector('iframe').contentWindow !== null")
        page.frames[1].wait_for_function("() => window.__xss === 1")
        assert len(_xss_anywhere(page)) == 1
        page.set_content("<img src=x onerror=\"window.__xss=1; alert('x')\">")
        page.wait_for_function("() => window.__xss === 1")
        assert _xss_anywhere(page) == ["about:blank"] and dialogs == ["x"]
    finally:
        context.close()


def test_the_database_really_is_hostile(hostile_db):
    """Guards the test above: the poisoned store holds the payloads where pages read them."""
    with closing(sqlite3.connect(hostile_db)) as conn:
        village = conn.execute("SELECT name FROM villages ORDER BY id LIMIT 1").fetchone()[0]
        assert village.startswith("<img src=x onerror=")
        assert conn.execute("SELECT count(*) FROM returnees WHERE village = ?", (village,)).fetchone()[0] > 0
        for ledger in LEDGERS.values():
            for key in _free_text_fields(ledger):
                if ledger.key == "controls" and key == "test_dates":
                    continue
                hostile = conn.execute(
                    f'SELECT count(*) FROM "{ledger.key}" WHERE "{key}" LIKE ?', ("%__xss%",)).fetchone()[0]
                hostile += conn.execute(
                    f'SELECT count(*) FROM "{ledger.key}" WHERE "{key}" LIKE ?', ("=HYPERLINK%",)).fetchone()[0]
                total = conn.execute(f'SELECT count(*) FROM "{ledger.key}"').fetchone()[0]
                assert total == 0 or hostile > 0, (ledger.key, key)
