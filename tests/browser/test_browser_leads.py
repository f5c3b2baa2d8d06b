"""The leads page (线索核查) in a real browser against a real server: an
overdue checkpoint lead taken from open to closed (已核实在本地), the person
then in the returnee ledger with a plan. It writes, so it runs its own
server on its own copy of the demo township (Playwright in a thread of its
own, as in test_browser_returnees.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from fangkong_lib import store
from fangkong_lib.domain.leads import data_now, lead_status

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import RequestLog, launch_chromium, own_demo_server, screenshot, status_text
except ImportError:  # pragma: no cover
    from tests.browser_support import RequestLog, launch_chromium, own_demo_server, screenshot, status_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_DAY = date(2022, 4, 7)
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1500, "height": 1100}
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])")


@pytest.fixture(scope="module")
def leads_pair(chromium_path: str, tmp_path_factory: pytest.TempPathFactory, demo_db) -> Iterator[tuple[Path, str]]:
    with own_demo_server(tmp_path_factory, "leads", source=demo_db) as pair:
        yield pair


def overdue_checkpoint_lead(db: Path) -> dict:
    """The first overdue checkpoint lead on a grid, as the page lists it."""
    engine = store.get_engine(str(db))
    table = lead_status(store.load_ledger(engine, "leads"), data_now(DEMO_DAY))
    rows = table[(table["source"] == "卡口") & (table["status"] == "已逾期")].sort_values("deadline")
    assert len(rows), "the demo has no overdue checkpoint lead"
    return rows.iloc[0].to_dict()


def wait_for(page, *parts: str) -> str:
    page.wait_for_function(
        """(parts) => {
            const el = document.querySelector('.fk-status');
            const text = el ? el.innerText : '';
            return text.includes('出错') || text.includes('操作未完成') || parts.every(p => text.includes(p));
        }""",
        arg=list(parts),
    )
    text = status_text(page)
    assert "出错" not in text and "操作未完成" not in text, f"the page reports an error: {text}"
    return text


def kpi(page, key: str) -> int:
    return int(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().strip().replace(",", ""))


def _close_a_lead(chromium_path: str, url: str, lead: dict, output_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium_path)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
            context.set_default_timeout(TIMEOUT_MS)
            requests = RequestLog(context)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            page.goto(url + "voila/render/leads.ipynb")
            page.locator('.fk-kpi[data-kpi="已逾期"] .fk-kpi-value').wait_for()
            page.locator("iframe.fk-map").wait_for()
            wait_for(page, "已更新", "全乡")
            overdue, late_checkpoints = kpi(page, "已逾期"), kpi(page, "late:卡口")
            assert overdue > 0 and late_checkpoints > 0
            screenshot(page, output_dir / "1-township.png")

            # The checkpoint's overdue leads: the card opens them, the filters show them.
            page.locator('.fk-kpi-card:has(.fk-kpi[data-kpi="late:卡口"]) button.fk-kpi-open').click()
            page.locator(".fk-kpi-list-title").get_by_text("卡口逾期").wait_for()
            assert lead["lead_no"] in page.locator(".fk-kpi-list-body").inner_text()
            page.locator(".fk-filter-source select").select_option(label="卡口")
            wait_for(page, "已更新", "卡口")
            page.locator(".fk-filter-status select").select_option(label="已逾期")
            wait_for(page, "已更新", "卡口 · 已逾期")
            assert page.locator(".fk-leads-table tbody tr").count() == late_checkpoints

            # Verify it: found at home, into the returnee workflow.
            label = f"{lead['lead_no']} {lead['name']}（卡口，已逾期）"
            page.locator(".fk-lead-select select").select_option(label=label)
            page.locator(".fk-lead-history").get_by_text(lead["lead_no"]).wait_for()
            page.locator(".fk-operator input").fill("测试员")
            page.locator(".fk-verify-outcome select").select_option(label="已核实在本地")
            page.locator(".fk-verify-risk select").select_option(label="省外低风险地区")
            page.locator(".fk-verify-measure input").fill("上门核实，纳入返乡人员管理")
            page.locator("button.fk-verify-save").click()
            message = wait_for(page, "已办结", lead["name"])
            assert "逾期办结" in message and "已登记报备" in message and "管控措施：三天两检" in message
            screenshot(page, output_dir / "2-closed.png")

            # Closed: gone from the overdue list and its cards, kept in the person's history.
            assert page.locator(".fk-leads-table tbody tr").count() == late_checkpoints - 1
            assert kpi(page, "late:卡口") == late_checkpoints - 1
            page.locator(".fk-filter-status select").select_option(label="逾期办结")
            wait_for(page, "已更新", "卡口 · 逾期办结")
            assert lead["lead_no"] in page.locator(".fk-leads-table").inner_text()
            history = page.locator(".fk-lead-history").inner_text()
            assert lead["lead_no"] in history and "已核实在本地" in history and "已在返乡台账" in history
            screenshot(page, output_dir / "3-history.png")

            text = page.locator("#rendered_cells").inner_text()
            assert not UNMASKED_ID.search(text), "an unmasked ID number is on the page"
            assert requests.remote() == []
            assert errors == []
        finally:
            browser.close()


def test_a_lead_goes_from_open_to_closed_on_the_page(chromium_path, leads_pair, output_dir):
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "the playwright package is not installed (pip install -e '.[test]')"
        if os.environ.get("FANGKONG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} (FANGKONG_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(message)
    db, url = leads_pair
    lead = overdue_checkpoint_lead(db)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_close_a_lead, chromium_path, url, lead, output_dir).result()

    engine = store.get_engine(str(db))
    stored = store.load_ledger(engine, "leads").set_index("lead_no").loc[lead["lead_no"]]
    assert (stored["outcome"], stored["verifier"]) == ("已核实在本地", "测试员")
    assert lead["id_number"] in set(store.load_ledger(engine, "returnees")["id_number"])
    assert lead["id_number"] in set(store.load_ledger(engine, "controls")["id_number"])
    assert store.load_audit(engine, "leads").iloc[-1]["user"] == "测试员"
