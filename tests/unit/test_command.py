"""指挥调度's pure rules: the 1+17+N structure, the meeting rhythm (held,
missing, still to come, low attendance), tasks on the rectification loop in
their own words, villages' reports over a week, the figures the overview
takes, the rhythm file's checks and the rules every entry path shares."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from fangkong_lib.domain import command as cmd
from fangkong_lib.domain import problems as loop
from fangkong_lib.domain.reports import REPORT_LATE, REPORT_MISSING
from fangkong_lib.ingest.validate import validate_record
from fangkong_lib.ledgers import get_ledger
from fangkong_lib.policy import PolicyError
from fangkong_lib.policy.command_rhythm import load_rhythm

DAY = date(2022, 4, 7)


@pytest.fixture(scope="module")
def frames(demo_frames):
    return demo_frames


def test_the_demo_structure_is_1_17_n_with_a_lead_and_phone_each(frames):
    units = frames["command_units"]
    assert cmd.structure_label(units) == "1+17+12"
    table = cmd.structure_table(units, frames["tasks"], DAY)
    assert table["unit"].iloc[0] == "城郊乡疫情防控指挥部" and (table["missing"] == "").all()
    branches = table[table["kind"] == "村党支部"]
    assert sorted(branches["village"]) == sorted(frames["villages"]["name"])
    # the tasks a unit holds are counted against it
    open_ = frames["tasks"][(frames["tasks"]["stage"] != loop.CLOSED) & (pd.to_datetime(frames["tasks"]["date"])
                                                                       <= pd.Timestamp(DAY))]
    assert table["tasks_open"].sum() == len(open_[open_["unit"].isin(units["unit"])])


def test_every_demo_task_history_leads_to_its_stage(frames):
    events = frames["task_events"]
    for number, stage in zip(frames["tasks"]["task_no"], frames["tasks"]["stage"]):
        assert loop.replay(events[events["task_no"] == number]) == stage, number


UNITS = pd.DataFrame([
    dict(unit="乡指挥部", kind="乡指挥部", village=None),
    dict(unit="甲村党支部", kind="村党支部", village="甲村"),
    dict(unit="乙村党支部", kind="村党支部", village="乙村"),
    dict(unit="宣传组", kind="工作专班", village=None),
])


def _meeting(kind, unit, present, expected=10, hour=8):
    return dict(date=pd.Timestamp(DAY), kind=kind, unit=unit, village=None,
                held_at=pd.Timestamp(datetime(2022, 4, 7, hour)), expected=expected, present=present, host="某")


def test_meetings_held_missing_to_come_and_low_attendance():
    meetings = pd.DataFrame([_meeting("早会商", "乡指挥部", 10, hour=7), _meeting("支部会商", "甲村党支部", 6),
                             _meeting("专题会议", "宣传组", 5, expected=5, hour=10)])
    tasks = pd.DataFrame([dict(date=pd.Timestamp(DAY), source="早会商", meeting_unit="乡指挥部")] * 2)
    at_nine = cmd.meeting_status(UNITS, meetings, tasks, DAY, now=datetime(2022, 4, 7, 9, 30))
    status = {(r.kind, r.unit): r for r in at_nine.itertuples()}
    assert status[("早会商", "乡指挥部")].status == cmd.MEETING_HELD and status[("早会商", "乡指挥部")].decisions == 2
    assert status[("支部会商", "甲村党支部")].flag == cmd.LOW_ATTENDANCE  # 6 of 10, below 0.8
    assert status[("支部会商", "乙村党支部")].status == cmd.MEETING_MISSING  # 08:00 + 60 min passed
    assert status[("晚汇报", "乡指挥部")].status == cmd.MEETING_PENDING
    assert status[("专题会议", "宣传组")].status == cmd.MEETING_HELD and status[("专题会议", "宣传组")].flag == ""
    at_eight = cmd.meeting_status(UNITS, meetings, tasks, DAY, now=datetime(2022, 4, 7, 8, 30))
    assert (at_eight["status"] == cmd.MEETING_MISSING).sum() == 0
    late_evening = cmd.meeting_status(UNITS, meetings, tasks, DAY)  # the whole day gone
    assert set(late_evening.loc[late_evening["kind"] == "晚汇报", "status"]) == {cmd.MEETING_MISSING}


def test_tasks_speak_their_own_words_and_problems_keep_theirs():
    with pytest.raises(loop.TransitionError, match="须核验通过后才能办结"):
        loop.next_stage(loop.FIXING, loop.CLOSED, kind=loop.TASK_LOOP)
    with pytest.raises(loop.TransitionError, match="须复查通过后才能销号"):
        loop.next_stage(loop.FIXING, loop.CLOSED)
    with pytest.raises(loop.TransitionError, match="交办事项已办结"):
        loop.next_stage(loop.CLOSED, loop.FIXING, kind=loop.TASK_LOOP)
    with pytest.raises(loop.TransitionError, match="完成时限 2022-04-06 早于交办日期"):
        loop.check_step({"stage": loop.FOUND, "date": DAY}, loop.ASSIGNED,
                        {"who": "甲", "unit": "组", "person": "乙", "deadline": date(2022, 4, 6)},
                        kind=loop.TASK_LOOP)
    assert loop.next_problem_no(["JB2022-007", "DC2022-050"], 2022, "JB") == "JB2022-008"


def test_task_filters_and_overdue():
    tasks = pd.DataFrame([
        dict(task_no="JB2022-001", date=pd.Timestamp("2022-04-01"), deadline=pd.Timestamp("2022-04-03"), stage="整改中",
             unit="宣传组", meeting_unit="乡指挥部", village="甲村"),
        dict(task_no="JB2022-002", date=pd.Timestamp("2022-04-05"), deadline=pd.Timestamp("2022-04-09"), stage="反馈",
             unit="甲村党支部", meeting_unit="甲村党支部", village="甲村"),
        dict(task_no="JB2022-003", date=pd.Timestamp("2022-04-02"), deadline=pd.Timestamp("2022-04-03"), stage="销号",
             unit="宣传组", meeting_unit="乡指挥部", village="乙村"),
        dict(task_no="JB2022-004", date=pd.Timestamp("2022-04-08"), deadline=pd.Timestamp("2022-04-09"), stage="反馈",
             unit="宣传组", meeting_unit="乡指挥部", village="乙村"),
    ])
    assert cmd.filter_tasks(tasks, DAY, status="overdue")["task_no"].tolist() == ["JB2022-001"]
    assert cmd.filter_tasks(tasks, DAY, status="open")["task_no"].tolist() == ["JB2022-001", "JB2022-002"]
    assert cmd.filter_tasks(tasks, DAY, status="done")["task_no"].tolist() == ["JB2022-003"]
    assert cmd.filter_tasks(tasks, DAY, unit="宣传组", village="乙村")["task_no"].tolist() == ["JB2022-003"]
    assert cmd.task_table(tasks, DAY)["stage_word"].tolist() == ["办理中", "已交办", "已办结"]
    with pytest.raises(ValueError, match="未知的办理状态"):
        cmd.filter_tasks(tasks, DAY, status="whatever")


def test_report_calendar_and_the_overview_figures(frames):
    calendar = cmd.report_calendar(frames, DAY)
    assert list(calendar.columns[:7]) == [f"04-{d:02d}" for d in range(1, 8)] and len(calendar) == 17
    assert calendar[REPORT_MISSING].sum() == (calendar.iloc[:, :7] == REPORT_MISSING).to_numpy().sum() > 0
    figures = cmd.command_figures(frames, DAY)
    assert figures.kpis["reports_missing"] == (calendar["04-07"] == REPORT_MISSING).sum()
    assert figures.kpis["reports_late"] == (calendar["04-07"] == REPORT_LATE).sum()
    assert figures.kpis["tasks_overdue"] == len(cmd.filter_tasks(frames["tasks"], DAY, status="overdue")) > 0
    assert figures.kpis["duty_gaps"] == len(figures.rows["duty_gaps"]) >= 1
    # before the daily reports and the roster began, nothing is missing or short
    assert set(cmd.command_figures(frames, date(2021, 1, 1)).kpis.values()) == {0}


def test_the_rhythm_file_is_checked(tmp_path):
    rhythm = load_rhythm()
    assert [(m.kind, m.units, m.at.strftime("%H:%M")) for m in rhythm.meetings] == [
        ("早会商", "乡指挥部", "07:30"), ("支部会商", "村党支部", "08:00"), ("晚汇报", "乡指挥部", "18:00")]
    bad = tmp_path / "rhythm.toml"
    bad.write_text('[[meeting]]\nkind = "早会商"\nunits = "乡指挥部"\nat = "7点半"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"rhythm.toml：第 1 个 \[\[meeting\]\] 的 at「7点半」"):
        load_rhythm(bad)
    bad.write_text('min_attendance = 2\n[[meeting]]\nkind = "早会商"\nunits = "乡指挥部"\nat = "07:30"\n',
                   encoding="utf-8")
    with pytest.raises(PolicyError, match="min_attendance"):
        load_rhythm(bad)


@pytest.mark.parametrize("ledger, raw, reason", [
    ("meetings", dict(date="2022-04-07", kind="早会商", unit="乡指挥部", expected=10, present=12), "实到人数多于应到人数"),
    ("tasks", dict(task_no="JB2022-001", date="2022-04-07", description="x", deadline="2022-04-05"),
     "完成时限早于交办日期"),
    ("village_reports", dict(date="2022-04-07", village="甲村", reported_at="2022-04-06 16:00"), "早于报告日期"),
])
def test_rules_across_fields_hold_on_every_entry_path(ledger, raw, reason):
    _record, problems = validate_record(get_ledger(ledger), raw, today=DAY)
    assert [p.reason for p in problems if reason in p.reason], problems


def test_a_task_card_shows_its_number_bold_and_data_as_text():
    from fangkong_lib.views.command import task_card_html

    card = task_card_html({"task_no": "JB2022-001", "description": "<img src=x onerror=alert(1)>", "overdue": True,
                           "source": "早会商", "unit": "宣传组", "person": "某", "deadline": pd.Timestamp(DAY)})
    assert "<b>JB2022-001</b>" in card and "fk-overdue" in card and ">逾期<" in card
    assert "<img" not in card and "&lt;img src=x" in card
