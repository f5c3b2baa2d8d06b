"""聚集管控 and 宣传 in a real browser: a wedding reported too late and too
big is named with both breaches and cannot be approved, a compliant one goes
through the village and then the township; a lagging village's leaflets
bring it up to the target. One server on a demo database of this module's
own (the tests write); screenshots go to test-output/<test name>/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fangkong_lib import store
from fangkong_lib.domain.gatherings import gathering_table
from fangkong_lib.domain.publicity_work import publicity_coverage
from fangkong_lib.views.community_maps import COVERAGE_COLOURS

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status
except ImportError:  # pragma: no cover
    from tests.browser_support import RequestLog, own_demo_server, screenshot, status_text, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1500, "height": 1100}
OPERATOR = "测试操作员"


@pytest.fixture(scope="module")
def community_server(chromium_path: str, tmp_path_factory, demo_db) -> Iterator[tuple[Path, str]]:
    with own_demo_server(tmp_path_factory, "community", source=demo_db) as pair:
        yield pair


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh context (a fresh kernel); afterwards no JavaScript errors and
    no request that left the machine."""
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


def open_page(page, url: str, notebook: str) -> None:
    page.goto(f"{url}voila/render/{notebook}")
    page.locator(".fk-status .ok").wait_for()
    page.locator("iframe.fk-map").wait_for()


def kpi(page, key: str) -> float:
    return float(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().strip().replace(",", ""))


def act(page, action, *parts: str) -> str:
    previous = status_text(page)
    action()
    return wait_for_status(page, previous, *parts)


def fill(page, css: str, value: str) -> None:
    box = page.locator(f"{css} input, {css} textarea").first
    box.fill(value)
    box.press("Tab")


def choose(select, prefix: str) -> None:
    """Select the option whose text starts with ``prefix`` (ipywidgets shows
    spaces in option labels as no-break spaces)."""
    texts = [t.replace("\xa0", " ") for t in select.locator("option").all_inner_texts()]
    select.select_option(index=next(i for i, t in enumerate(texts) if t.startswith(prefix)))


def villages_short_of_target(page, expected: int, timeout_s: float = 30) -> int:
    """Village polygons of the publicity map not filled green (every target
    met), once the map shows ``expected`` of them (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        count = -1
        try:
            frame = page.locator("iframe.fk-map").element_handle().content_frame()
            count = frame.evaluate(
                """(green) => {
                    const paths = [...document.querySelectorAll('.leaflet-overlay-pane path')];
                    return paths.length ? paths.filter(p => p.getAttribute('fill') !== green).length : -1;
                }""", COVERAGE_COLOURS[-1])
        except Exception:  # the frame is being replaced
            pass
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.3)


def table_rows(page, css: str) -> list[list[str]]:
    return page.locator(f"{css} table").first.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim()))")


def test_a_wedding_breaking_the_rules_is_named_and_a_compliant_one_approved(page, community_server, output_dir):
    db, url = community_server
    engine = store.get_engine(str(db))
    open_page(page, url, "gatherings.ipynb")
    assert kpi(page, "funerals") == 5
    header = page.locator(".fk-gatherings-table th").all_inner_texts()
    assert "不符合项" in header
    screenshot(page, output_dir / "1-gatherings.png")

    # 60 people, reported on the demo day for two days later: both breaches named.
    fill(page, ".fk-operator", OPERATOR)
    fill(page, ".fk-rep-host", "钱测试")
    fill(page, ".fk-rep-date", "2022-04-09")
    fill(page, ".fk-rep-people", "60")
    fill(page, ".fk-rep-tables", "6")
    fill(page, ".fk-rep-reported-clock", "09:00")
    saved = act(page, lambda: page.locator(".fk-rep-save").click(), "已报备", "钱测试")
    assert "报备不足3天" in saved and "人数超过50人" in saved
    note = page.locator(".fk-report-breaches").inner_text()
    assert "报备不足3天" in note and "人数超过50人" in note
    row = next(r for r in table_rows(page, ".fk-gatherings-table") if r[0] == "钱测试")
    assert row[-2] == "报备不足3天、人数超过50人"

    # The village cannot approve it as it stands.
    pending = page.locator(".fk-rev-gathering select")
    choose(pending, "钱测试")
    refused = act(page, lambda: page.locator(".fk-rev-approve").click(), "不能批准")
    assert "人数超过50人" in refused and page.locator(".fk-status .err").count() == 1
    screenshot(page, output_dir / "2-breaches-named.png")

    # A demo wedding that keeps the rules: the village, then the township.
    table = gathering_table(store.load_ledger(engine, "gatherings"))
    keeps = table[(table["state"] == "待审批") & (table["breach_text"] == "") & (table["kind"] == "红事")].iloc[0]
    choose(pending, keeps["label"])
    act(page, lambda: page.locator(".fk-rev-approve").click(), "村已批准", "待乡里审批")
    page.locator(".fk-rev-level button", has_text="乡审批").click()
    choose(pending, keeps["label"])
    act(page, lambda: page.locator(".fk-rev-approve").click(), "乡已批准", "审批完成")
    stored = store.load_ledger(engine, "gatherings")
    stored = stored[stored["host"] == keeps["host"]].iloc[0]
    assert (stored["approval"], stored["village_reviewer"], stored["township_reviewer"]) == (
        "乡已审批", OPERATOR, OPERATOR)
    screenshot(page, output_dir / "3-approved.png")


def test_leaflets_bring_a_lagging_village_up_to_the_target(page, community_server, output_dir):
    db, url = community_server
    engine = store.get_engine(str(db))
    open_page(page, url, "publicity.ipynb")
    behind = kpi(page, "behind")
    assert behind == 4
    assert villages_short_of_target(page, 4) == 4  # the map colours the same villages
    page.locator(".fk-filter-behind input").check()
    page.wait_for_function("() => document.querySelectorAll('.fk-coverage-table tbody tr').length === 4")
    rows = table_rows(page, ".fk-coverage-table")
    assert all(r[1] for r in rows)  # each lagging village says why
    screenshot(page, output_dir / "1-behind.png")

    # The village short of leaflets gets enough delivered: no longer behind.
    cov = publicity_coverage(store.load_ledger(engine, "publicity"), store.load_ledger(engine, "villages"),
                             store.data_today(store.get_meta(engine)))
    short = cov[cov["reasons_text"].str.startswith("宣传单覆盖")].iloc[0]
    missing = int(short["households"] - short["leaflet_households"]) + 1
    fill(page, ".fk-operator", OPERATOR)
    page.locator(".fk-pub-village select").select_option(label=short["village"])
    page.locator(".fk-pub-channel select").select_option(label="宣传单")
    page.locator(".fk-pub-topic select").select_option(label="文明祭祀")
    fill(page, ".fk-pub-quantity", str(missing))
    fill(page, ".fk-pub-households", str(missing))
    act(page, lambda: page.locator(".fk-pub-save").click(), "宣传工作：已新增")
    assert kpi(page, "behind") == behind - 1
    assert villages_short_of_target(page, 3) == 3
    assert short["village"] not in [r[0] for r in table_rows(page, ".fk-coverage-table")]
    stored = store.load_ledger(engine, "publicity")
    assert ((stored["village"] == short["village"]) & (stored["households"] == missing)).any()
    screenshot(page, output_dir / "2-caught-up.png")
