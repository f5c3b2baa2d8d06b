"""The returnee page (返乡人员管控) in a real browser against a real server.

The test writes (a temperature reading), so it runs its own server on its own
copy of the demo township, never on the session's read-only demo database.

Playwright's sync API refuses to start while another sync Playwright is
running in the same thread (tests/test_browser.py keeps one for the whole
session), so the browser part of this test runs in a thread of its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from fangkong_lib import store
from fangkong_lib.views.returnees import person_label

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import (RequestLog, launch_chromium, own_demo_server, screenshot,
                              person_without_fever)
except ImportError:  # pragma: no cover
    from tests.browser_support import (RequestLog, launch_chromium, own_demo_server, screenshot,
                                    person_without_fever)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_DAY = date(2022, 4, 7)
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1500, "height": 1100}
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])")


@pytest.fixture(scope="module")
def returnee_pair(chromium_path: str, tmp_path_factory: pytest.TempPathFactory,
                  demo_db: Path) -> Iterator[tuple[Path, str]]:
    """A demo township of this module's own (the test writes into it) and its server."""
    with own_demo_server(tmp_path_factory, "returnees", source=demo_db) as pair:
        yield pair


@pytest.fixture(scope="module")
def returnee_db(returnee_pair) -> Path:
    return returnee_pair[0]


@pytest.fixture(scope="module")
def returnee_server(returnee_pair) -> str:
    return returnee_pair[1]


def in_own_thread(scenario: Callable[..., None], *args) -> None:
    """Run ``scenario(*args)`` in a new thread (see the module docstring);
    its assertion errors come back here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(scenario, *args).result()





def wait_for_status(page, *parts: str) -> str:
    """Wait until the status line contains every part (or reports an error)."""
    page.wait_for_function(
        """(parts) => {
            const el = document.querySelector('.fk-status');
            const text = el ? el.innerText : '';
            return text.includes('出错') || text.includes('未保存') || parts.every(p => text.includes(p));
        }""",
        arg=list(parts),
    )
    text = page.locator(".fk-status").first.inner_text().strip()
    assert "出错" not in text and "未保存" not in text, f"the page reports an error: {text}"
    return text


def kpi(page, key: str) -> int:
    return int(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().strip().replace(",", ""))


def fever_names(page) -> list[str]:
    """姓名 column of the fever list (empty when there is no such list)."""
    return page.evaluate(
        """() => {
            const list = document.querySelector('.fk-alert-list[data-alert="fevers"]');
            if (!list) return [];
            const heads = [...list.querySelectorAll('thead th')].map(th => th.innerText.trim());
            const col = heads.indexOf('姓名');
            return [...list.querySelectorAll('tbody tr')].map(tr => tr.cells[col].innerText.trim());
        }"""
    )


def _record_a_fever(chromium_path: str, url: str, person: dict, output_dir: Path) -> None:
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

            page.goto(url + "voila/render/returnees.ipynb")
            page.locator('.fk-kpi[data-kpi="管控中"] .fk-kpi-value').wait_for()
            page.locator("iframe.fk-map").wait_for()
            wait_for_status(page, "已更新", "全乡")
            everyone = kpi(page, "people")
            screenshot(page, output_dir / "1-township.png")

            # Filter: the person's village, people under control.
            village = person["village"]
            page.locator(".fk-filter-village select").select_option(label=village)
            wait_for_status(page, "已更新", village)
            page.locator(".fk-filter-status select").select_option(label="管控中")
            wait_for_status(page, "已更新", village, "管控中")
            under_control = kpi(page, "people")
            assert 0 < under_control == kpi(page, "管控中") < everyone
            assert person["name"] not in fever_names(page)
            fevers_before = kpi(page, "fevers")

            # Open the person: plan, day grid and 五包一 team.
            label = person_label({**person, "status": "管控中"})
            page.locator(".fk-person-select select").select_option(label=label)
            detail = page.locator(".fk-person-detail")
            detail.locator(".fk-days").wait_for()
            assert person["name"] in detail.locator(".fk-person-head").inner_text()
            assert detail.locator(".fk-team-table tr").count() == 5
            assert detail.locator('.fk-days td[data-state]').count() >= 3
            screenshot(page, output_dir / "2-person.png")

            # Record an afternoon temperature of 38.1 ℃.
            page.locator(".fk-operator input").fill("测试员")
            page.locator(".fk-temp-slot select").select_option(label="下午")
            page.locator(".fk-temp-value input").fill("38.1")
            page.locator("button.fk-save-temp").click()
            wait_for_status(page, "已保存", person["name"], "38.1")

            # The fever alert appears at once, with the person in it.
            page.wait_for_function(
                """(name) => {
                    const list = document.querySelector('.fk-alert-list[data-alert="fevers"]');
                    return !!list && list.innerText.includes(name);
                }""",
                arg=person["name"],
            )
            assert person["name"] in fever_names(page)
            assert kpi(page, "fevers") == fevers_before + 1
            assert "38.1" in page.locator(".fk-msg-temperature").inner_text()
            today_pm = detail.locator(".fk-days tr.fk-today td").nth(2)
            assert today_pm.get_attribute("data-state") == "abnormal" and today_pm.inner_text() == "38.1"
            screenshot(page, output_dir / "3-fever.png")

            # Personal data stays masked, nothing left the machine, no script errors.
            text = page.locator("#rendered_cells").inner_text()
            assert not UNMASKED_ID.search(text), "an unmasked ID number is on the page"
            assert requests.remote() == []
            assert errors == []
        finally:
            browser.close()


def test_record_a_fever_on_the_returnee_page(chromium_path, returnee_db, returnee_server, output_dir):
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "the playwright package is not installed (pip install -e '.[test]')"
        if os.environ.get("FANGKONG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} (FANGKONG_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(message)
    person = person_without_fever(returnee_db, DEMO_DAY)
    in_own_thread(_record_a_fever, chromium_path, returnee_server, person, output_dir)

    # What the browser did is in the store, audited as the operator.
    engine = store.get_engine(str(returnee_db))
    checks = store.load_ledger(engine, "daily_checks")
    row = checks[(checks["id_number"] == person["id_number"]) & (checks["date"] == str(DEMO_DAY))]
    assert row["temp_pm"].tolist() == [38.1] and row["symptoms"].tolist() == ["发热"]
    audit = store.load_audit(engine, "daily_checks")
    assert audit.iloc[-1]["user"] == "测试员"
