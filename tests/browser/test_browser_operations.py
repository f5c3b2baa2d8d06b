"""The working pages in a real browser: key places, the rectification loop,
donated supplies — filters, forms and refusals as a user sees them.

One ``fangkong serve`` runs for this module on a demo database of its own
(these tests write), and one headless system Chromium; each test gets a
fresh browser context, so a fresh Voilà kernel. Screenshots go to
test-output/<test name>/.

The browser is the session's one Chromium (``browser`` in tests/conftest.py:
Playwright's sync API allows one instance per thread).
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from fangkong_lib import store

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status
except ImportError:  # pragma: no cover
    from tests.browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1500, "height": 1100}
SEEN_MARK = "data-test-seen"  # set on a map iframe the test has already looked at
STATUS_COLOURS = ("#2f8f4e", "#e08a00", "#c0392b")  # fangkong_lib.domain.places.STATUS_COLOURS
OPERATOR = "测试操作员"


# -- Fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ops_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory,
               demo_db: Path) -> Iterator[tuple[Path, str]]:
    """A demo database of this module's own (the tests write to it) and its server."""
    with own_demo_server(tmp_path_factory, "operations", source=demo_db) as pair:
        yield pair


@pytest.fixture(scope="module")
def ops_db(ops_server) -> Path:
    return ops_server[0]


@pytest.fixture(scope="module")
def server_url(ops_server) -> str:
    return ops_server[1]


@pytest.fixture
def engine(ops_db: Path):
    return store.get_engine(str(ops_db))


@pytest.fixture
def page(browser) -> Iterator:
    """A page in a fresh context (a fresh kernel); afterwards, no JavaScript
    errors and no request that left the machine."""
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


# -- Helpers --------------------------------------------------------------------------


def open_page(page, url: str, notebook: str) -> None:
    page.goto(f"{url}voila/render/{notebook}")
    page.locator(".fk-status .ok").wait_for()
    page.locator("iframe.fk-map").wait_for()


def kpi(page, key: str) -> float:
    text = page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text()
    return float(text.strip().replace(",", ""))


def act(page, action, *parts: str) -> str:
    """Do something that ends with a new status line containing ``parts``."""
    previous = status_text(page)
    action()
    return wait_for_status(page, previous, *parts)


def map_frame(page, timeout_s: float = TIMEOUT_MS / 1000):
    """The map iframe's frame, not yet looked at, once Leaflet has settled."""
    element = page.wait_for_selector(f"iframe.fk-map:not([{SEEN_MARK}])")
    deadline, last = time.monotonic() + timeout_s, None
    while True:
        frame = element.content_frame()
        try:
            state = frame.evaluate(
                """() => {
                    if (document.readyState !== 'complete' || !document.querySelector('.leaflet-container')) return null;
                    if (document.querySelector('.leaflet-zoom-anim')) return null;
                    const pane = document.querySelector('.leaflet-map-pane');
                    const clusters = document.querySelectorAll('.leaflet-marker-pane > *').length;
                    const paths = document.querySelectorAll('.leaflet-overlay-pane path').length;
                    return [pane && pane.style.transform, clusters, paths].join('|');
                }"""
            ) if frame else None
        except Exception:  # the frame is still being created or swapped
            state = None
        if state is not None and state == last:
            return frame
        last = state
        if time.monotonic() > deadline:
            raise AssertionError(f"the map iframe did not settle in {timeout_s} s")
        time.sleep(0.2)


def change_filter(page, change, *parts: str):
    """Apply a filter; returns (status line, the new map frame)."""
    page.locator("iframe.fk-map").evaluate(f"el => el.setAttribute('{SEEN_MARK}', '')")
    status = act(page, change, *parts)
    return status, map_frame(page)


def places_on_map(frame, expected: float, timeout_s: float = 15) -> int:
    """Places drawn: the numbers on the clusters plus the single markers
    (coloured by status). Clusters animate after a zoom, so this waits (up
    to ``timeout_s``) for the count to become ``expected``; returns the last count."""
    deadline = time.monotonic() + timeout_s
    while True:
        count = _count_places(frame)
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def _count_places(frame) -> int:
    return frame.evaluate(
        """(colours) => {
            if (document.querySelector('.leaflet-cluster-anim, .leaflet-zoom-anim')) return -1;
            let n = 0;
            for (const c of document.querySelectorAll('.leaflet-marker-pane .marker-cluster span')) n += +c.innerText;
            for (const p of document.querySelectorAll('.leaflet-overlay-pane path')) {
                if (colours.includes(p.getAttribute('stroke'))) n += 1;
            }
            return n;
        }""",
        list(STATUS_COLOURS),
    )


def village_fills(frame) -> list[str]:
    """Fill colours of the village polygons of a values map, in order."""
    return frame.evaluate(
        "() => [...document.querySelectorAll('.leaflet-overlay-pane path')].map(p => p.getAttribute('fill'))")


def table_rows(page, css: str) -> list[list[str]]:
    return page.locator(f"{css} table").first.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim()))")




def fill(page, css: str, value: str) -> None:
    """Type into a text/number widget and commit it (Enter, then leave)."""
    box = page.locator(f"{css} input, {css} textarea").first
    box.fill(value)
    box.press("Tab")


# -- 重点场所 --------------------------------------------------------------------------------


def test_places_filters_inspection_and_venue_code(page, server_url: str, engine, output_dir: Path) -> None:
    open_page(page, server_url, "places.ipynb")
    frame = map_frame(page)
    total = kpi(page, "places")
    assert total == 436  # 435 key places and the health centre
    assert len(table_rows(page, ".fk-places-table")) == total
    assert places_on_map(frame, total) == total
    screenshot(page, output_dir / "1-all.png")

    # One village: fewer places in the KPIs, the table and on the map.
    village_select = page.locator(".fk-filter-village select")
    village = village_select.locator("option").nth(3).inner_text()
    _, frame = change_filter(page, lambda: village_select.select_option(label=village), village)
    in_village = kpi(page, "places")
    rows = table_rows(page, ".fk-places-table")
    assert 0 < in_village < total
    assert len(rows) == in_village and {r[3] for r in rows} == {village}
    assert places_on_map(frame, in_village) == in_village
    screenshot(page, output_dir / "2-village.png")

    # A compliance item over the whole township: places without the code posted.
    items = page.locator(".fk-filter-item select")
    change_filter(page, lambda: village_select.select_option(index=0), "全乡")
    _, frame = change_filter(page, lambda: items.select_option(label="未落实：场所码张贴"), "未落实场所码张贴")
    missing = kpi(page, "places")
    rows = table_rows(page, ".fk-places-table")
    assert 0 < missing < total and missing == kpi(page, "code_missing")
    assert len(rows) == missing and {r[6] for r in rows} == {"未张贴"}
    assert places_on_map(frame, missing) == missing
    change_filter(page, lambda: items.select_option(index=0), "全乡")

    # An inspection with two items not in place: refused without an operator,
    # then saved, the place ordered to fix, two problems opened.
    # a place not yet inspected on the demo day (one inspection a place a day)
    inspected = store.load_ledger(engine, "inspections")
    today = set(inspected.loc[inspected["date"] == pd.Timestamp("2022-04-07"), "place_code"])
    place = page.locator(".fk-place-select select")
    labels = place.locator("option").all_inner_texts()
    index = next(i for i, label in enumerate(labels) if re.search(r"（(ZKT\d+)）", label).group(1) not in today)
    place.select_option(index=index)
    code = re.search(r"（(ZKT\d+)）", place.locator("option:checked").inner_text()).group(1)
    before_fix = kpi(page, "限期整改")
    page.locator(".fk-check-all").click()
    page.locator(".fk-check-masks button", has_text="未落实").click()
    page.locator(".fk-check-temperature button", has_text="未落实").click()
    refused = act(page, lambda: page.locator(".fk-insp-save").click(), "操作人")
    assert "操作未完成" in refused
    fill(page, ".fk-operator", OPERATOR)
    saved = act(page, lambda: page.locator(".fk-insp-save").click(), "已保存", code)
    numbers = re.findall(r"DC2022-\d{3}", saved)
    assert "限期整改" in saved and len(numbers) == 2, saved
    assert kpi(page, "限期整改") == before_fix + 1
    problems = store.load_ledger(engine, "problems")
    opened = problems[problems["problem_no"].isin(numbers)]
    assert set(opened["place_code"]) == {code} and set(opened["stage"]) == {"发现"}
    audit = store.load_audit(engine, "inspections")
    assert audit.iloc[-1]["user"] == OPERATOR

    # The printable venue code: a PNG with the QR code, offered as a download.
    page.locator(".fk-print-code").click()
    link = page.locator("a.fk-code-link")
    link.wait_for()
    href = link.get_attribute("href")
    assert href.startswith("data:image/png;base64,") and code in link.get_attribute("download")
    png = base64.b64decode(href.split(",", 1)[1])
    (output_dir / "venue-code.png").write_bytes(png)
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 600
    screenshot(page, output_dir / "3-inspection-and-code.png")


# -- 督查整改 ---------------------------------------------------------------------------------


def board_cards(page, stage: str) -> list[str]:
    return page.locator(f'.fk-board-col[data-stage="{stage}"] .fk-card').evaluate_all(
        "cards => cards.map(c => c.dataset.problem)")


def test_supervision_filters_and_a_problem_through_the_whole_loop(
    page, server_url: str, engine, output_dir: Path
) -> None:
    open_page(page, server_url, "supervision.ipynb")
    frame = map_frame(page)
    found = kpi(page, "found")
    assert page.locator(".fk-card").count() == found >= 30
    overdue = kpi(page, "problems_overdue")
    assert page.locator(".fk-card.fk-overdue").count() == overdue > 0
    assert len(table_rows(page, ".fk-overdue-box")) == overdue
    fills = village_fills(frame)
    screenshot(page, output_dir / "1-all.png")

    # One team: its problems only, on the board, in the KPIs and on the map.
    team = page.locator(".fk-filter-team select")
    _, frame = change_filter(page, lambda: team.select_option(label="第一督查组"), "第一督查组")
    mine = kpi(page, "found")
    assert 0 < mine < found and page.locator(".fk-card").count() == mine
    assert kpi(page, "visits") < 66
    assert village_fills(frame) != fills
    assert [r[0] for r in table_rows(page, ".fk-teams-box")] == ["第一督查组"] * len(table_rows(page, ".fk-teams-box"))
    screenshot(page, output_dir / "2-team.png")
    change_filter(page, lambda: team.select_option(index=0), "全乡")

    # A new problem, then every step of the loop; a failed re-inspection
    # sends it back; it closes only after a passed one.
    fill(page, ".fk-operator", OPERATOR)
    page.locator(".fk-open-team select").select_option(label="第二督查组")
    village = page.locator(".fk-open-village select option").nth(2).inner_text()
    page.locator(".fk-open-village select").select_option(label=village)
    page.locator(".fk-open-category select").select_option(label="卡点值守")
    fill(page, ".fk-open-description", "夜间卡点无人值守（测试）")
    opened = act(page, lambda: page.locator(".fk-open-problem").click(), "已新开问题")
    number = re.search(r"DC2022-\d{3}", opened).group(0)
    assert number in board_cards(page, "发现")
    assert kpi(page, "found") == found + 1
    assert page.locator(".fk-step-close").is_disabled()  # no skipping to 销号

    fill(page, ".fk-step-unit", f"{village}党支部")
    fill(page, ".fk-step-person", "张测试")
    fill(page, ".fk-step-deadline", "2022-04-09")
    act(page, lambda: page.locator(".fk-step-assign").click(), number, "当前阶段：反馈")
    assert number in board_cards(page, "反馈")
    fill(page, ".fk-step-note", "已安排两人轮班")
    page.locator(".fk-step-done input").check()
    act(page, lambda: page.locator(".fk-step-progress").click(), number, "当前阶段：整改中")
    fill(page, ".fk-step-note", "夜间仍无人")
    act(page, lambda: page.locator(".fk-step-fail").click(), number, "复查未通过", "当前阶段：整改中")
    assert number in board_cards(page, "整改中")
    assert page.locator(".fk-step-close").is_disabled()
    fill(page, ".fk-step-note", "增派人员，装监控")
    act(page, lambda: page.locator(".fk-step-progress").click(), number, "当前阶段：整改中")
    fill(page, ".fk-step-evidence", "值班照片")
    act(page, lambda: page.locator(".fk-step-pass").click(), number, "复查通过", "当前阶段：复查")
    assert number in board_cards(page, "复查")
    act(page, lambda: page.locator(".fk-step-close").click(), number, "当前阶段：销号")
    assert number in board_cards(page, "销号")
    page.locator(".fk-accountability-outcome select").select_option(label="约谈")
    act(page, lambda: page.locator(".fk-accountability").click(), number, "约谈")
    history = page.locator(".fk-problem-info .fk-history tbody tr td:first-child").all_inner_texts()
    screenshot(page, output_dir / "3-closed.png")

    steps = ["发现", "反馈", "整改中", "复查", "复查未通过", "整改中", "复查", "销号"]
    assert history == steps
    events = store.load_ledger(engine, "problem_events")
    mine = events[events["problem_no"] == number].sort_values("time")
    assert mine["step"].tolist() == steps
    row = store.load_ledger(engine, "problems").set_index("problem_no").loc[number]
    assert row["stage"] == "销号" and row["accountability"] == "约谈" and row["evidence"] == "值班照片"
    assert set(store.load_audit(engine, "problem_events").tail(7)["user"]) == {OPERATOR}


# -- 捐赠物资 ---------------------------------------------------------------------------------


def stock_cell(page, item: str) -> float:
    rows = [r for r in table_rows(page, ".fk-stock-box") if r[0] == item]
    assert len(rows) == 1, rows
    return float(rows[0][5].replace(",", ""))


def test_supplies_filter_issue_refusal_and_public_list(page, server_url: str, engine, output_dir: Path) -> None:
    from openpyxl import load_workbook

    open_page(page, server_url, "supplies.ipynb")
    frame = map_frame(page)
    donors, receipts = kpi(page, "donors"), kpi(page, "receipts")
    assert donors >= 20 and 90_000 <= kpi(page, "donated_value") <= 110_000
    fills = village_fills(frame)
    screenshot(page, output_dir / "1-all.png")

    # One item: its receipts, issues and stock only; the map shows its quantity.
    item = "84消毒液"
    items = page.locator(".fk-filter-item select")
    _, frame = change_filter(page, lambda: items.select_option(label=item), item)
    assert kpi(page, "receipts") < receipts and kpi(page, "donors") < donors
    assert {r[0] for r in table_rows(page, ".fk-stock-box")} == {item, "合计"}
    assert {r[2] for r in table_rows(page, ".fk-issues-box")} == {item}
    assert village_fills(frame) != fills
    assert item in frame.locator(".fk-panel").first.inner_text()
    stock = stock_cell(page, item)
    issued_rows = store.count_rows(engine, "distributions")
    screenshot(page, output_dir / "2-item.png")

    # Issue 10: the stock drops by 10 in the table and in the form.
    fill(page, ".fk-operator", OPERATOR)
    page.locator(".fk-issue-item select").select_option(label=item)
    fill(page, ".fk-issue-quantity", "10")
    page.locator(".fk-issue-recipient-type select").select_option(label="卡点")
    fill(page, ".fk-issue-recipient", "东环路卡点")
    fill(page, ".fk-issue-taker", "王测试")
    act(page, lambda: page.locator(".fk-issue-save").click(), "已出库", item)
    assert stock_cell(page, item) == stock - 10
    assert float(page.locator(".fk-issue-stock-value").get_attribute("data-stock")) == stock - 10
    assert store.count_rows(engine, "distributions") == issued_rows + 1

    # More than the stock: refused with the stock in the message, nothing written.
    fill(page, ".fk-issue-quantity", str(int(stock - 10 + 1)))
    refused = act(page, lambda: page.locator(".fk-issue-save").click(), "库存不足")
    assert "出库被拒绝" in refused and f"{stock - 10:g}" in refused
    assert page.locator(".fk-status .err").count() == 1
    assert stock_cell(page, item) == stock - 10
    assert store.count_rows(engine, "distributions") == issued_rows + 1
    screenshot(page, output_dir / "3-refused.png")

    # The public list (公示) as a workbook: donors and their total.
    items.select_option(index=0)
    page.locator(".fk-export-donors").click()
    link = page.locator("a.fk-download-link")
    link.wait_for()
    content = base64.b64decode(link.get_attribute("href").split(",", 1)[1])
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["捐赠公示", "接收明细", "发放明细"]
    rows = list(book["捐赠公示"].iter_rows(values_only=True))
    assert "公示" in rows[0][0] and rows[-1][0] == "合计"
    assert len(rows) - 3 == donors
