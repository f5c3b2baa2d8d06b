"""The workbench as one app in a real browser against a real ``fangkong serve``.

- One kernel per tab: the navigation switches pages without a new kernel and
  without loading the page again; a fever recorded on 返乡人员管控 shows on
  the overview at once; the address bar follows the page, so a reload opens
  the page the user was on.
- Culling: the kernel of a closed tab goes, the kernel of an open tab stays
  and keeps working. The server runs with a short idle time (``--cull-idle``)
  instead of voila.json's nine minutes.

The test writes, so the module has its own copy of the demo township.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from fangkong_lib import store
from fangkong_lib.views.returnees import person_label

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import (RequestLog, build_demo_database, kernel_count, kernel_pids, running_server,
                              screenshot, person_without_fever)
except ImportError:  # pragma: no cover
    from tests.browser_support import (RequestLog, build_demo_database, kernel_count, kernel_pids, running_server,
                                    screenshot, person_without_fever)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_DAY = date(2022, 4, 7)
TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1500, "height": 1100}
#: Idle seconds after which the server culls a kernel no browser is attached to.
CULL_IDLE_S = 6
#: How long the test waits for a closed tab's kernel to go (a deadline, not a measurement).
CULL_WAIT_S = 120


@pytest.fixture(scope="module")
def app_pair(browser, tmp_path_factory, demo_db: Path) -> Iterator[tuple[Path, str]]:
    db = build_demo_database(tmp_path_factory.mktemp("app-db") / "fangkong.sqlite", demo_db)
    with running_server(db, tmp_path_factory.mktemp("app-server"), "--cull-idle", str(CULL_IDLE_S),
                        "--no-preheat") as url:  # kernels counted here are the visitors' only
        yield db, url


def kpi(page, key: str) -> int:
    return int(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').first.inner_text().strip()
               .replace(",", ""))


def open_page(page, title: str) -> None:
    """Click ``title`` in the app's navigation and wait until the page is shown."""
    page.locator(".fk-nav .fk-nav-item", has_text=title).first.click()
    page.wait_for_function(
        """(title) => {
            const current = document.querySelector('.fk-nav .fk-nav-item.fk-current');
            const status = document.querySelector('.fk-app-content .fk-status');
            return current && current.innerText.trim() === title && status && status.innerText.trim() !== '';
        }""", arg=title)


def wait_for_status(page, *parts: str) -> str:
    page.wait_for_function(
        """(parts) => {
            const el = document.querySelector('.fk-status');
            const text = el ? el.innerText : '';
            return text.includes('出错') || text.includes('未保存') || parts.every(p => text.includes(p));
        }""", arg=list(parts))
    text = page.locator(".fk-status").first.inner_text().strip()
    assert "出错" not in text and "未保存" not in text, f"the page reports an error: {text}"
    return text



def test_pages_switch_in_one_kernel_and_a_write_shows_on_the_overview(browser, app_pair, output_dir):
    db, url = app_pair
    person = person_without_fever(db, DEMO_DAY)
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    requests = RequestLog(context)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + "voila/render/overview.ipynb")
        page.locator('.fk-kpi[data-kpi="fevers"] .fk-kpi-value').wait_for()
        assert kernel_count(url) == 1
        page.evaluate("() => { window.__fk_same_document = true; }")  # gone if the page loads again
        titles = page.locator(".fk-nav .fk-nav-item").all_inner_texts()
        assert titles[:4] == ["态势总览", "指挥调度", "网格责任", "返乡人员管控"] and len(titles) == 16
        fevers = kpi(page, "fevers")
        screenshot(page, output_dir / "1-overview.png")

        # Through a few pages by the navigation: no new kernel, the address follows.
        for title, notebook in (("重点场所", "places"), ("台账查询与导出", "ledgers"), ("返乡人员管控", "returnees")):
            open_page(page, title)
            page.wait_for_url(re.compile(rf"/voila/render/{notebook}\.ipynb$"))
            assert page.locator(".fk-app-title small").inner_text() == title
        assert kernel_count(url) == 1 and page.evaluate("() => window.__fk_same_document === true")

        # A fever on 返乡人员管控 ...
        wait_for_status(page, "已更新")
        page.locator(".fk-filter-village select").select_option(label=person["village"])
        wait_for_status(page, "已更新", person["village"])
        page.locator(".fk-filter-status select").select_option(label="管控中")
        wait_for_status(page, "已更新", person["village"], "管控中")
        page.locator(".fk-person-select select").select_option(label=person_label({**person, "status": "管控中"}))
        page.locator(".fk-person-detail .fk-days").wait_for()
        page.locator(".fk-operator input").fill("测试员")
        page.locator(".fk-temp-slot select").select_option(label="下午")
        page.locator(".fk-temp-value input").fill("38.1")
        page.locator("button.fk-save-temp").click()
        wait_for_status(page, "已保存", person["name"], "38.1")
        screenshot(page, output_dir / "2-fever-recorded.png")

        # ... is on the overview at once, without loading anything again.
        open_page(page, "态势总览")
        page.wait_for_function(
            """(n) => Number(document.querySelector('.fk-kpi[data-kpi="fevers"] .fk-kpi-value')
                       .innerText.replace(/,/g, '')) === n""", arg=fevers + 1)
        assert kpi(page, "fevers") == fevers + 1
        assert page.evaluate("() => window.__fk_same_document === true") and kernel_count(url) == 1
        page.wait_for_url(re.compile(r"/voila/render/overview\.ipynb$"))
        screenshot(page, output_dir / "3-overview-after.png")

        # The address is the page's own: a reload opens the same page.
        open_page(page, "重点场所")
        page.wait_for_url(re.compile(r"/voila/render/places\.ipynb$"))
        page.reload()
        page.locator(".fk-nav .fk-nav-item.fk-current").wait_for()
        assert page.locator(".fk-nav .fk-nav-item.fk-current").inner_text() == "重点场所"
        assert requests.remote() == [] and errors == []
    finally:
        context.close()


def test_a_closed_tab_loses_its_kernel_and_an_open_one_keeps_working(browser, app_pair, output_dir):
    _db, url = app_pair
    # The test above closed its tab: that kernel goes too, while this test
    # opens its own (the two waits overlap; each kernel is told apart by pid).
    earlier = set(kernel_pids(url))
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        staying = context.new_page()
        staying.goto(url + "voila/render/overview.ipynb")
        staying.locator(".fk-app-content .fk-status").wait_for()
        staying_idle_since = time.monotonic()
        staying_kernel = set(kernel_pids(url)) - earlier
        assert len(staying_kernel) == 1
        leaving = context.new_page()
        leaving.goto(url + "voila/render/places.ipynb")
        leaving.locator(".fk-app-content .fk-status").wait_for()
        leaving_kernel = set(kernel_pids(url)) - earlier - staying_kernel
        assert len(leaving_kernel) == 1
        leaving.close()  # like closing the tab: no shutdown request reaches the server
        closed = earlier | leaving_kernel
        deadline = time.monotonic() + CULL_WAIT_S
        while set(kernel_pids(url)) & closed and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not set(kernel_pids(url)) & earlier, "the kernel of the tab closed by the test above was not culled"
        assert not set(kernel_pids(url)) & leaving_kernel, "the closed tab's kernel was not culled"
        # Several idle periods after it was drawn the open tab's kernel is still there and answers.
        staying.wait_for_timeout(max(0.0, staying_idle_since + 3 * CULL_IDLE_S - time.monotonic()) * 1000)
        assert set(kernel_pids(url)) == staying_kernel
        open_page(staying, "重点场所")
        wait_for_status(staying, "已更新")
        screenshot(staying, output_dir / "open-tab-after-culling.png")
    finally:
        context.close()


def test_a_preheated_overview_shows_what_was_written_before_its_visitor_came(browser, tmp_path_factory, demo_db,
                                                                              output_dir):
    """voila.json keeps one overview kernel drawn ahead of the visitor; a
    fever recorded after it was drawn (here by another program) is on the
    page the visitor gets."""
    from fangkong_lib import actions
    from fangkong_lib.ui.models.overview import OverviewModel

    db = build_demo_database(tmp_path_factory.mktemp("preheat-db") / "fangkong.sqlite", demo_db)
    workdir = tmp_path_factory.mktemp("preheat-server")
    with running_server(db, workdir) as url:
        deadline = time.monotonic() + CULL_WAIT_S
        log = workdir / "server.log"
        while "is filled with 1 kernel" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "is filled with 1 kernel" in log.read_text(errors="replace")
        person = person_without_fever(db, DEMO_DAY)
        actions.record_temperature(store.get_engine(str(db)), person["id_number"],
                                   {"date": DEMO_DAY, "slot": "上午", "temperature": "38.6"}, user="另一程序")
        from fangkong_lib.dataset import Dataset

        fevers = OverviewModel(Dataset.load(str(db), reload=True)).kpis["fevers"]
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto(url + "voila/render/overview.ipynb")
            card = page.locator(".fk-kpi", has_text="发热").first
            card.wait_for()
            page.wait_for_function("(n) => [...document.querySelectorAll('.fk-kpi')].some("
                                   "k => k.innerText.includes('发热') && k.innerText.includes(String(n)))",
                                   arg=fevers)
            screenshot(page, output_dir / "preheated-overview.png")
            assert str(fevers) in card.inner_text()
        finally:
            context.close()
