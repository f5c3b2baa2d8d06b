"""The grid-responsibility page (网格责任) in a real browser: a village
behind on household coverage, the map's tooltip naming the people at every
level, and two unlinked households linked to a party member through the
form — the KPIs, the tree and the map's figures change with it.

One ``fangkong serve`` on a demo database of this module's own (the test
writes); screenshots go to test-output/<test name>/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fangkong_lib import store
from fangkong_lib.ledgers import GRID_LEVELS

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status
except ImportError:  # pragma: no cover
    from tests.browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1500, "height": 1100}
BEHIND_VILLAGE = "杨湖村"
OPERATOR = "测试操作员"


@pytest.fixture(scope="module")
def grids_server(chromium_path: str, tmp_path_factory, demo_db) -> Iterator[tuple[Path, str]]:
    with own_demo_server(tmp_path_factory, "grids", source=demo_db) as pair:
        yield pair


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        log = RequestLog(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        assert errors == [], f"JavaScript errors: {errors}"
        assert log.remote() == [], f"requests that leave the machine: {log.remote()}"
    finally:
        context.close()


def kpi(page, key: str) -> float:
    return float(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().replace(",", ""))


def act(page, action, *parts: str) -> str:
    previous = status_text(page)
    action()
    return wait_for_status(page, previous, *parts)


def grid_tooltip(page, code: str, timeout_s: float = 60) -> str:
    """Hover the grid cell ``code`` on the map (inside its sandboxed frame)
    and return its tooltip's text."""
    deadline = time.monotonic() + timeout_s
    while True:
        frame = page.locator("iframe.fk-map").element_handle().content_frame()
        try:
            text = frame.evaluate(
                """(code) => {
                    // (a sandboxed frame refuses some window properties: read only the layers')
                    for (const name of Object.keys(window).filter(n => n.startsWith('geo_json_'))) {
                        const layer = window[name];
                        if (!layer || !layer.eachLayer) continue;
                        let found = null;
                        layer.eachLayer(l => { if (l.feature && (l.feature.properties.tip || '').includes('<b>' + code + '</b>')) found = l; });
                        if (found) {
                            found.fire('mouseover', {latlng: found.getBounds().getCenter()}, true);  // up to the layer's tooltip
                            const tip = document.querySelector('.leaflet-tooltip');
                            return tip ? tip.innerText : null;
                        }
                    }
                    return null;
                }""", code) if frame else None
        except Exception:  # the frame is being replaced after a change
            text = None
        if text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"no tooltip for grid {code}")
        time.sleep(0.3)


def linked_in(tooltip: str) -> int:
    return int(re.search(r"已联户 (\d+)", tooltip).group(1))


def test_linking_two_households_raises_coverage_on_page_and_map(page, grids_server, output_dir: Path) -> None:
    db, url = grids_server
    page.goto(f"{url}voila/render/grids.ipynb")
    page.locator(".fk-status .ok").wait_for()
    page.locator("iframe.fk-map").wait_for()
    assert kpi(page, "households") == 16920
    screenshot(page, output_dir / "1-township.png")

    village = page.locator(".fk-filter-village select")
    act(page, lambda: village.select_option(label=BEHIND_VILLAGE), BEHIND_VILLAGE)
    coverage, unlinked = kpi(page, "coverage"), kpi(page, "unlinked")
    assert coverage < 90 and unlinked > 0
    assert page.locator(".fk-grid-tree .fk-tree-village").count() == 1

    # The grid with the most households not yet linked comes first in the form.
    grid_label = page.locator(".fk-link-grid select option").first.inner_text()
    code = grid_label.split("（")[0]
    tip = grid_tooltip(page, code)
    for level in GRID_LEVELS:
        assert f"{level}：" in tip, tip
    assert "空缺" not in tip and "覆盖率" in tip
    before = linked_in(tip)
    screenshot(page, output_dir / "2-behind-village.png")

    page.locator(".fk-operator input").fill(OPERATOR)
    page.locator(".fk-operator input").press("Tab")
    options = page.locator(".fk-link-households select option")
    labels = [options.nth(i).inner_text() for i in range(options.count())]
    chosen = [i for i, label in enumerate(labels) if "未联户" in label][:2]
    assert len(chosen) == 2
    page.locator(".fk-link-households select").select_option(index=chosen)
    member = page.locator(".fk-link-member select").evaluate("s => s.options[s.selectedIndex].textContent")
    page.locator(".fk-map").evaluate("el => el.setAttribute('data-test-seen', '')")
    status = act(page, lambda: page.locator(".fk-link-save button, button.fk-link-save").first.click(), "已将 2 户")
    number, name = member.split()[0], member.split()[1].split("（")[0]  # no-break spaces in options
    assert f"{name}（{number}）" in status

    assert kpi(page, "unlinked") == unlinked - 2 and kpi(page, "coverage") > coverage
    page.wait_for_selector("iframe.fk-map:not([data-test-seen])")
    assert linked_in(grid_tooltip(page, code)) == before + 2
    rows = page.locator(f'.fk-grid-tree tr[data-node]:has-text("{code}")').first.inner_text()
    assert str(before + 2) in rows
    screenshot(page, output_dir / "3-after-linking.png")
    households = store.load_ledger(store.get_engine(str(db)), "households")
    assert (households["grid"].eq(code) & households["member_no"].notna()).sum() == before + 2
