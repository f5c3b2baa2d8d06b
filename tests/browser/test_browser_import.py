"""The import page in a real browser: upload a village's messy file, see the
dry run, download the error report, confirm, see it written — and nothing
written before the confirmation."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from fangkong_lib import store

try:
    from browser_support import own_demo_server
except ImportError:  # pragma: no cover
    from tests.browser_support import own_demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
GOOD_IDS = ["11010519491231002X", "440524188001010014"]


@pytest.fixture(scope="module")
def import_server(chromium_path, tmp_path_factory, demo_db):
    """A demo database of its own (these tests write) and its server."""
    with own_demo_server(tmp_path_factory, "import", source=demo_db) as pair:
        yield pair


@pytest.fixture(scope="module")
def db(import_server) -> Path:
    return import_server[0]


@pytest.fixture(scope="module")
def server(import_server) -> str:
    return import_server[1]


def upload(page, path: Path) -> None:
    """Choose a file as a user does: the upload button opens a file chooser."""
    with page.expect_file_chooser() as chooser:
        page.click("button.fk-upload")
    chooser.value.set_files(str(path))


def messy_file(path: Path, village: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["城郊乡返乡人员登记台账（村里填报）"])
    ws.append(["序号", "姓名", "性别", "身份证号码", "联系电话", "行政村", "风险等级", "预计返乡时间"])
    ws.append([1, "测试甲", "女", GOOD_IDS[0].lower(), "138 1234 5678", village, "上海", "2022年4月9日"])
    ws.append([2, "测试乙", "男", GOOD_IDS[1], "+86 139-1234-5678", village, "省外低风险地区", "2022/4/10"])
    ws.append([3, "测试丙", "男", 4.11625e17, "13712345678", village, "上海", "2022-04-09"])
    ws.append([4, "测试丁", "男", "41162519900101001X", "12345", "火星村", "月球", "明天"])
    wb.save(path)
    return path


def test_upload_check_then_confirm(server, browser, db, tmp_path, output_dir):
    engine = store.get_engine(db)
    village = store.load_ledger(engine, "villages")["name"].iloc[0]
    before = store.count_rows(engine, "returnees")
    upload_path = messy_file(tmp_path / "柳湾村返乡人员.xlsx", village)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "voila/render/import.ipynb")
    page.wait_for_selector(".fk-import-ledger select")
    page.select_option(".fk-import-ledger select", label="返乡报备")
    page.fill(".fk-operator input", "村文书")
    upload(page, upload_path)

    page.wait_for_selector(".fk-import-result")
    counts = {el.get_attribute("data-count"): int(el.inner_text().split("\n")[0])
              for el in page.query_selector_all(".fk-import-result .fk-kpi")}
    assert counts == {"读取": 4, "新增": 2, "更新": 0, "未变": 0, "重复": 0, "拒收": 2}
    assert "预检" in page.inner_text(".fk-status")
    preview = page.inner_text(".fk-import-preview")
    assert "存成了数字" in preview and "火星村" in preview and "不在可选值中" in preview
    page.screenshot(path=str(output_dir / "1-dry-run.png"), full_page=True)
    assert store.count_rows(engine, "returnees") == before  # nothing written yet

    href = page.get_attribute("a.fk-report-link", "href")
    report = openpyxl.load_workbook(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).active
    assert [c.value for c in report[2]][:2] == ["原行号", "错误原因"]
    assert sorted(r[0].value for r in report.iter_rows(min_row=3)) == [5, 6]

    page.click("button.fk-import-confirm")
    expect(page.locator(".fk-status")).to_contain_text("导入 返乡报备：读取 4 行，新增 2", timeout=TIMEOUT_MS)
    page.screenshot(path=str(output_dir / "2-confirmed.png"), full_page=True)
    stored = store.load_ledger(engine, "returnees")
    assert len(stored) == before + 2 and set(GOOD_IDS) <= set(stored["id_number"])
    audit = store.load_audit(engine, "returnees")
    assert audit.iloc[-1]["user"] == "村文书"

    # the same file again: nothing left to write
    upload(page, upload_path)
    expect(page.locator(".fk-status")).to_contain_text("没有需要写入", timeout=TIMEOUT_MS)
    assert page.is_disabled("button.fk-import-confirm")
    context.close()


def test_unusable_file_says_why(server, browser, tmp_path):
    bad = tmp_path / "别的表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["甲", "乙"])
    wb.save(bad)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "voila/render/import.ipynb")
    page.wait_for_selector("button.fk-upload")
    upload(page, bad)
    page.wait_for_selector(".fk-status .err")
    assert "找不到" in page.inner_text(".fk-status")
    context.close()
