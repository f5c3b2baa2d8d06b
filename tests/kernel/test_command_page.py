"""The command page (指挥调度) driven through its model and view, no browser:
filters move the figures, every KPI card opens what it counts, the forms
write through the actions (a meeting's decision becomes a task that runs to
办结, a village's report, a duty assignment that closes a gap), and the
overview and the briefing carry the command's figures. Writes, so it runs
on a demo database of its own."""

from __future__ import annotations

import re
from datetime import date

import pytest

from fangkong_lib.dataset import Dataset
from fangkong_lib.domain import command as cmd
from fangkong_lib.domain import problems as loop
from fangkong_lib.domain.reports import REPORT_MISSING, village_report_status
from fangkong_lib.outputs.briefing import summarize_briefing
from fangkong_lib.ui.command import CommandModel, CommandPage
from fangkong_lib.ui.models.overview import OverviewModel

UNMASKED_PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
DAY = date(2022, 4, 7)
HQ = "城郊乡疫情防控指挥部"


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    return Dataset.load(demo_db_copier(tmp_path_factory.mktemp("command-page")), reload=True)


def rows_in(html: str) -> int:
    return max(html.count("<tr>") - 1, 0)


def test_figures_follow_the_day_the_hour_and_the_filters(data):
    m = CommandModel(data, hour=17)
    assert not m.error and m.day == DAY and m.structure_label == "1+17+12"
    missing = int((village_report_status(data.ledgers, DAY)["status"] == REPORT_MISSING).sum())
    assert m.kpis["reports_missing"] == missing > 0
    assert m.kpis["meetings_missing"] == 2  # two branches without their 08:00 meeting on the demo day
    assert m.kpis["on_duty"] >= 2 and m.kpis["tasks_overdue"] > 0
    assert m.kpis["tasks_open"] + m.kpis["tasks_done"] == len(m.tasks)
    # at 08:00 the branches' meetings are not yet overdue; at 17:00 the 晚汇报 is still to come
    m.hour = 8
    assert m.kpis["meetings_missing"] == 0
    m.hour = 17
    assert "未到时间" in m.meetings_html and "未召开" in m.meetings_html
    # the status filter narrows the board and the list, not the KPI counts
    m.task_status = "overdue"
    assert len(m.tasks) == m.kpis["tasks_overdue"] and m.tasks["overdue"].all()
    assert m.board_html.count('data-task="') == m.kpis["tasks_overdue"]
    m.task_status = ""
    village = data.village_names[4]
    m.village = village
    assert m.kpis["reports_missing"] <= 1 and set(m.tasks["village"]) <= {village}
    assert data.village_names[5] not in m.calendar_html
    m.village, m.unit = "", "排查管控组"
    assert len(m.tasks) and all((m.tasks["unit"] == "排查管控组") | (m.tasks["meeting_unit"] == "排查管控组"))
    m.unit = ""
    assert not UNMASKED_PHONE.search(m.structure_html) and "指挥长" in m.structure_html


def test_every_card_opens_what_it_counts(data):
    page = CommandPage(CommandModel(data, hour=17))
    m = page.model
    for key in m.kpi_lists:
        page._kpis.click(key)
        assert rows_in(page._focus_body.value) == m.kpis[key], key
        page._kpis.click(key)
    assert "fk-alert" in page._kpis.value  # overdue tasks and missing reports in warning colours


def test_a_meeting_decision_runs_to_done_from_the_page(data):
    page = CommandPage(CommandModel(data, hour=19, operator="综合协调组"))
    m = page.model
    before = m.kpis["tasks_open"]
    page._m_unit.value, page._m_kind.value, page._m_time.value = HQ, "晚汇报", "18:10"
    page._m_expected.value, page._m_present.value = 15, 14
    first = page._decisions[0]
    first["description"].value = "连夜核查省平台新推送批次"
    first["unit"].value = "大数据核查组"
    page._on_meeting()
    assert not m.error and "晚汇报" in m.status, m.status
    number = m.selected
    task = m.task(number)
    assert task["stage"] == loop.ASSIGNED and task["person"] == m.unit_row("大数据核查组")["lead"]
    assert task["deadline"].date() == date(2022, 4, 8)  # the rhythm's task_days after the meeting
    assert m.kpis["tasks_open"] == before + 1 and f'data-task="{number}"' in m.board_html
    assert first["description"].value == ""  # the form is cleared for the next meeting
    assert page._buttons[loop.CLOSED].disabled and not page._buttons[loop.FIXING].disabled
    page._on_step(loop.CLOSED)
    assert m.error and "须核验通过后才能办结" in m.status
    page._t_note.value, page._t_done.value = "已核查完毕，无异常", True
    page._on_step(loop.FIXING)
    page._on_step(loop.RECHECKED)
    page._on_step(loop.CLOSED)
    assert not m.error and m.task(number)["stage"] == loop.CLOSED and m.selected_steps == []
    assert "已办结" in m.selected_html and all(b.disabled for b in page._buttons.values())
    assert m.kpis["tasks_open"] == before


def test_a_village_report_and_a_duty_assignment_from_the_page(data):
    page = CommandPage(CommandModel(data, hour=17, operator="值班员"))
    m = page.model
    missing = m.reports.index[m.reports["status"] == REPORT_MISSING].tolist()
    page._r_village.value, page._r_time.value, page._r_zero.value = missing[0], "17:40", True
    page._on_report()
    assert not m.error and "零报告" in m.status
    assert m.reports.loc[missing[0], "status"] == "迟报" and m.kpis["reports_missing"] == len(missing) - 1
    gap = cmd.duty_gaps_on(data.ledgers, DAY).iloc[0]
    before = m.kpis["duty_gaps"]
    page._d_post.value = gap["post"]
    page._d_shift.value = gap["shift"]
    page._d_name.value, page._d_phone.value, page._d_role.value = "韩值守", "13900000001", "村干部"
    page._on_duty()
    assert not m.error, m.status
    assert m.kpis["duty_gaps"] == before - 1
    page._d_name.value = ""
    page._on_duty()
    assert m.error and "姓名" in m.status


def test_overview_and_briefing_carry_the_command_figures(data):
    ov = OverviewModel(data)
    for key in cmd.COMMAND_KPI_LABELS:
        assert key in ov.kpis
        ov.open_kpi(key)
        assert rows_in(ov.focus_html) == ov.kpis[key], key
        ov.open_kpi(key)
    assert ov.kpis["tasks_overdue"] > 0 and ov.kpis["reports_missing"] > 0
    b = summarize_briefing(data, DAY)
    headline = b.headline.set_index("key")
    assert headline.loc["tasks_overdue", "今日"] == ov.kpis["tasks_overdue"]
    assert b.action("tasks").count == ov.kpis["tasks_overdue"]
    assert not b.action("tasks").rows.empty and "逾期天数" in b.action("tasks").rows.columns
