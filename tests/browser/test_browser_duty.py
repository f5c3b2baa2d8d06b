"""The checkpoint and sentinel pages in a real browser, one workflow each:
a duty officer fills a short checkpoint shift and sees the gap disappear.

One ``fangkong serve`` runs for this module on a demo database of its own
(the tests write), with the session's one headless system Chromium; each
test gets a fresh browser context (a fresh Voilà kernel). Screenshots go to
test-output/<test name>/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fangkong_lib import store

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status
except ImportError:  # pragma: no cover
    from tests.browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1500, "height": 1100}
OPERATOR = "值班员"


@pytest.fixture(scope="module")
def duty_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory, demo_db) -> Iterator[tuple[Path, str]]:
    with own_demo_server(tmp_path_factory, "duty", source=demo_db) as pair:
        yield pair


@pytest.fixture
def page(browser) -> Iterator:
    """A page in a fresh context; afterwards, no JavaScript errors and no
    request that left the machine."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
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


def open_page(page, url: str, notebook: str) -> None:
    page.goto(f"{url}voila/render/{notebook}")
    page.locator(".fk-status .ok").wait_for()
    page.locator("iframe.fk-map").wait_for()


def kpi(page, key: str) -> int:
    return int(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().strip().replace(",", ""))


def act(page, action, *parts: str) -> str:
    previous = status_text(page)
    action()
    return wait_for_status(page, previous, *parts)


def fill(page, css: str, value: str) -> None:
    box = page.locator(f"{css} input, {css} textarea").first
    box.fill(value)
    box.press("Tab")


def table_rows(page, css: str) -> list[list[str]]:
    return page.locator(f"{css} table").first.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim()))")


def test_filling_a_short_checkpoint_shift_clears_its_gap(page, duty_server, output_dir: Path) -> None:
    db, url = duty_server
    open_page(page, url, "checkpoints.ipynb")
    # 23:00 on the demo day: the night shifts are on; 东环路卡点's has no police officer or medic
    act(page, lambda: page.locator(".fk-filter-hour select").select_option(label="23:00"), "23:00")
    assert kpi(page, "checkpoints") == 8
    assert kpi(page, "short_now") == 1
    gaps_before = kpi(page, "gaps")
    assert gaps_before >= 1
    now = {r[0]: r for r in table_rows(page, ".fk-cp-now")}
    assert now["东环路卡点"][-1] == "缺1人（缺民警或医护）"
    assert page.locator(".fk-cp-roster td.fk-gap-cell").count() == gaps_before
    screenshot(page, output_dir / "1-short.png")

    # the card opens the short shifts
    page.locator('.fk-kpi-card:has(.fk-kpi[data-kpi="gaps"]) .fk-kpi-open').click()
    page.locator(".fk-kpi-list-title", has_text="当日缺员班次").wait_for()
    assert "东环路卡点" in page.locator(".fk-kpi-list-body").inner_text()

    fill(page, ".fk-operator", OPERATOR)
    page.locator(".fk-assign-post select").select_option(label="东环路卡点")
    page.locator(".fk-assign-shift select").select_option(label="夜班 23:00–次日07:00")
    fill(page, ".fk-assign-name", "赵警官")
    fill(page, ".fk-assign-phone", "13800000009")
    page.locator(".fk-assign-role select").select_option(label="民警")
    status = act(page, lambda: page.locator(".fk-assign-save").click(), "已排班")
    assert "赵警官" in status and "东环路卡点" in status

    assert kpi(page, "short_now") == 0
    assert kpi(page, "gaps") == gaps_before - 1
    now = {r[0]: r for r in table_rows(page, ".fk-cp-now")}
    assert now["东环路卡点"][-1] == "齐全" and "赵警官（民警）" in now["东环路卡点"][-2]
    assert page.locator(".fk-cp-roster td.fk-gap-cell").count() == gaps_before - 1
    screenshot(page, output_dir / "2-filled.png")

    audit = store.load_audit(store.get_engine(str(db)), "duty_shifts")
    assert audit.iloc[-1]["user"] == OPERATOR


def test_a_recorded_drug_purchase_is_listed_waiting_for_its_test(page, duty_server, output_dir: Path) -> None:
    from fangkong_lib.ingest.normalize import id_check_char

    db, url = duty_server
    open_page(page, url, "sentinels.ipynb")
    assert kpi(page, "sentinels") > 1
    pending, buyers = kpi(page, "pending"), kpi(page, "buyers")
    assert 0 < pending < buyers
    sentinels = table_rows(page, ".fk-sentinels-box")
    assert sentinels[0][:2] == ["城郊乡卫生院", "卫生院"]
    screenshot(page, output_dir / "1-sentinels.png")

    first17 = "41162519850505123"
    fill(page, ".fk-operator", OPERATOR)
    page.locator(".fk-buy-outlet select").select_option(label="城郊乡卫生院（卫生院）")
    fill(page, ".fk-buy-name", "李四")
    fill(page, ".fk-buy-id", first17 + id_check_char(first17))
    fill(page, ".fk-buy-phone", "13900000002")
    fill(page, ".fk-buy-drug", "布洛芬缓释胶囊")
    page.locator(".fk-buy-class select").select_option(label="退热")
    fill(page, ".fk-buy-temperature", "37.8")
    act(page, lambda: page.locator(".fk-buy-save").click(), "已新增")

    assert kpi(page, "pending") == pending + 1 and kpi(page, "buyers") == buyers + 1
    rows = [r for r in table_rows(page, ".fk-buyers-box") if r[2] == "李四"]
    assert len(rows) == 1 and rows[0][1] == "城郊乡卫生院" and rows[0][11] == "待核酸"
    assert "*" in rows[0][3] and "*" in rows[0][4]  # ID and phone masked
    centre = {r[0]: r for r in table_rows(page, ".fk-sentinels-box")}["城郊乡卫生院"]
    assert centre[-3:-1] == ["1", "1"]  # one buyer, waiting for the test
    screenshot(page, output_dir / "2-recorded.png")
    assert store.load_audit(store.get_engine(str(db)), "drug_buyers").iloc[-1]["user"] == OPERATOR
