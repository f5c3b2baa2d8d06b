"""The 党员志愿者 page in a real browser: a household in home isolation
flagged for having no 代购员 gets one from the posting form, and the flag
goes from the KPI card, its list, the households table and the map.

One ``fangkong serve`` on a demo database of this module's own (the test
writes) and the session's one headless system Chromium. Screenshots go to
test-output/<test name>/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status
except ImportError:  # pragma: no cover
    from tests.browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 60_000
GAP_COLOUR = "#b8322a"  # fangkong_lib.views.volunteer_maps.GAP_COLOUR


@pytest.fixture(scope="module")
def server_url(chromium_path: str, tmp_path_factory: pytest.TempPathFactory, demo_db) -> Iterator[str]:
    with own_demo_server(tmp_path_factory, "volunteers", source=demo_db) as (_db, url):
        yield url


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
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


def kpi(page, key: str) -> int:
    return int(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().strip().replace(",", ""))


def rows(page, css: str) -> list[list[str]]:
    return page.locator(f"{css} table").first.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim()))")


def outlined_cells(page) -> int:
    """Grid cells the map outlines in red (a household there lacks a volunteer)."""
    frame = page.wait_for_selector("iframe.fk-map").content_frame()
    frame.wait_for_selector(".leaflet-overlay-pane path")
    return frame.evaluate("(c) => [...document.querySelectorAll('.leaflet-overlay-pane path')]"
                          ".filter(p => p.getAttribute('stroke') === c && p.getAttribute('stroke-width') === '3').length",
                          GAP_COLOUR)


def test_posting_a_buyer_to_a_flagged_household_clears_the_flag(page, server_url: str, output_dir: Path) -> None:
    page.goto(f"{server_url}voila/render/volunteers.ipynb")
    page.locator(".fk-status .ok").wait_for()
    page.locator("iframe.fk-map").wait_for()
    assert kpi(page, "service") == 376 and kpi(page, "probationary") == 31 and kpi(page, "activists") == 46
    missing = kpi(page, "households_missing")
    assert missing >= 1
    flagged = [r for r in rows(page, ".fk-household-table") if "缺代购员" in r[3]]  # 隔离人员 村 网格 缺岗 …
    assert flagged, "the demo leaves a household without a 代购员"
    name = flagged[0][0]
    assert outlined_cells(page) >= 1
    screenshot(page, output_dir / "1-flagged.png")

    # the card opens the households it counts
    page.locator('.fk-kpi-card:has(.fk-kpi[data-kpi="households_missing"]) .fk-kpi-open').click()
    page.locator(".fk-kpi-list-body table").wait_for()
    assert len(rows(page, ".fk-kpi-list-body")) == missing
    screenshot(page, output_dir / "2-card-list.png")
    page.locator(".fk-kpi-list-close").click()

    # refused without an operator, then posted
    household = page.locator(".fk-assign-household select")
    label = next(t for t in household.locator("option").all_inner_texts() if t.startswith(name) and "缺代购员" in t)
    household.select_option(label=label)
    page.locator(".fk-assign-role select").select_option(label="代购员")
    previous = status_text(page)
    page.locator(".fk-assign-save").click()
    assert "操作人" in wait_for_status(page, previous, "操作人")
    page.locator(".fk-operator input").fill("志愿者管理员")
    page.locator(".fk-operator input").press("Tab")
    previous = status_text(page)
    page.locator(".fk-assign-save").click()
    status = wait_for_status(page, previous, "已派驻", "代购员")
    assert name in status

    page.wait_for_function(
        "([n]) => { const el = document.querySelector('.fk-kpi[data-kpi=\"households_missing\"] .fk-kpi-value');"
        " return el && +el.innerText.trim() === n; }", arg=[missing - 1])
    after = {r[0]: r for r in rows(page, ".fk-household-table")}
    assert "缺代购员" not in after[name][3] and after[name][4]  # the 代购员 column names someone now
    screenshot(page, output_dir / "3-posted.png")
