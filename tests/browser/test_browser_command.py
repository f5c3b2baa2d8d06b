"""The command page (指挥调度) in a real browser: a meeting recorded with a
decision, the task it becomes on the board, and that task moved through the
loop to 办结 — as a user does it. One ``fangkong serve`` on a demo database
of this module's own; screenshots go to test-output/<test name>/."""

from __future__ import annotations

import re
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
OPERATOR = "综合协调组测试员"
HQ = "城郊乡疫情防控指挥部"
MISSING_FILL = "#b8322a"  # a village that has not reported (views/command.py REPORT_COLOURS)


@pytest.fixture(scope="module")
def command_server(chromium_path: str, tmp_path_factory, demo_db) -> Iterator[tuple[Path, str]]:
    with own_demo_server(tmp_path_factory, "command", source=demo_db) as pair:
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


def act(page, action, *parts: str) -> str:
    previous = status_text(page)
    action()
    return wait_for_status(page, previous, *parts)


def fill(page, css: str, value: str) -> None:
    box = page.locator(f"{css} input, {css} textarea").first
    box.fill(value)
    box.press("Tab")


def kpi(page, key: str) -> int:
    return int(page.locator(f'.fk-kpi[data-kpi="{key}"] .fk-kpi-value').inner_text().strip().replace(",", ""))


def cards(page, stage: str) -> list[str]:
    return page.locator(f'.fk-board-box .fk-board-col[data-stage="{stage}"] .fk-card').evaluate_all(
        "cards => cards.map(c => c.dataset.task)")


def test_a_meeting_decision_becomes_a_task_and_is_done(page, command_server, output_dir: Path) -> None:
    db, url = command_server
    page.goto(f"{url}voila/render/command.ipynb")
    page.locator(".fk-status .ok").wait_for()
    frame = page.locator("iframe.fk-map").element_handle().content_frame()
    frame.wait_for_selector(".leaflet-overlay-pane path")
    fills = frame.evaluate("() => [...document.querySelectorAll('.leaflet-overlay-pane path')].map(p => p.getAttribute('fill'))")
    assert MISSING_FILL in fills and kpi(page, "reports_missing") > 0  # villages not in by 17:00 are red
    assert "1+17+12" in page.locator(".fk-structure-label").inner_text()
    open_before = kpi(page, "tasks_open")
    screenshot(page, output_dir / "1-page.png")

    # 晚汇报 at HQ with one decision: the task is handed to the group's lead
    fill(page, ".fk-operator", OPERATOR)
    page.locator(".fk-meeting-kind select").select_option(label="晚汇报")
    page.locator(".fk-meeting-unit select").select_option(label=HQ)
    fill(page, ".fk-meeting-time", "18:10")
    fill(page, ".fk-meeting-expected", "15")
    fill(page, ".fk-meeting-present", "14")
    fill(page, ".fk-decision-text-1", "连夜核查省平台新推送批次（测试）")
    page.locator(".fk-decision-unit-1 select").select_option(label="大数据核查组")
    said = act(page, lambda: page.locator(".fk-meeting-save").click(), "晚汇报", "交办事项")
    number = re.search(r"JB2022-\d{3}", said).group(0)
    page.wait_for_function("n => [...document.querySelectorAll('.fk-board-box .fk-card')]"
                           ".some(c => c.dataset.task === n)", arg=number)
    assert number in cards(page, "反馈")  # 已交办
    assert kpi(page, "tasks_open") == open_before + 1
    assert "已交办" in page.locator(".fk-task-info").inner_text()
    assert page.locator(".fk-task-close").is_disabled()  # no 办结 before a check
    screenshot(page, output_dir / "2-assigned.png")

    # progress (done) → checked → 办结
    fill(page, ".fk-task-note", "已核查完毕，无异常")
    page.locator(".fk-task-done input").check()
    act(page, lambda: page.locator(".fk-task-progress").click(), number, "办理中")
    act(page, lambda: page.locator(".fk-task-pass").click(), number, "已核验")
    act(page, lambda: page.locator(".fk-task-close").click(), number, "已办结")
    assert number in cards(page, "销号") and kpi(page, "tasks_open") == open_before
    history = page.locator(".fk-task-info .fk-history tbody tr td:first-child").all_inner_texts()
    assert history[0] == "议定" and history[-1] == "办结" and len(history) == 5
    screenshot(page, output_dir / "3-done.png")

    engine = store.get_engine(str(db))
    task = store.load_ledger(engine, "tasks").set_index("task_no").loc[number]
    assert task["stage"] == "销号" and task["unit"] == "大数据核查组" and task["source"] == "晚汇报"
    meetings = store.load_ledger(engine, "meetings")
    tonight = meetings[(meetings["kind"] == "晚汇报") & (meetings["date"] == "2022-04-07")]
    assert tonight["present"].tolist() == [14] and tonight["held_at"].dt.strftime("%H:%M").tolist() == ["18:10"]
    assert set(store.load_audit(engine, "task_events").tail(5)["user"]) == {OPERATOR}
