"""The rectification loop as a state machine, overdue problems, and the
per-team and per-village counts (pure functions, no database)."""

from datetime import date, datetime

import pandas as pd
import pytest

from fangkong_lib.domain import problems as loop
from fangkong_lib.ledgers import PROBLEM_STAGES, PROBLEM_STEPS

DAY = date(2022, 4, 7)

# Every (stage, step) the loop allows, with the stage it leads to — written
# out by hand from the issue, not copied from the code.
ALLOWED = {
    ("发现", "反馈"): "反馈",
    ("反馈", "整改中"): "整改中",
    ("整改中", "整改中"): "整改中",
    ("整改中", "复查"): "复查",
    ("复查", "复查未通过"): "整改中",
    ("复查", "销号"): "销号",
}
ALL_PAIRS = [(stage, step) for stage in PROBLEM_STAGES for step in PROBLEM_STEPS]


@pytest.mark.parametrize("stage, step", [p for p in ALL_PAIRS if p in ALLOWED])
def test_allowed_transition(stage, step):
    assert loop.next_stage(stage, step) == ALLOWED[(stage, step)]
    assert step in loop.allowed_steps(stage)


@pytest.mark.parametrize("stage, step", [p for p in ALL_PAIRS if p not in ALLOWED])
def test_forbidden_transition(stage, step):
    with pytest.raises(loop.TransitionError) as info:
        loop.next_stage(stage, step)
    message = str(info.value)
    assert stage in message or "已销号" in message
    assert step not in loop.allowed_steps(stage)


def test_the_table_is_the_whole_machine():
    assert loop.TRANSITIONS == ALLOWED
    assert loop.allowed_steps("销号") == ()


@pytest.mark.parametrize("stage", ["发现", "反馈", "整改中"])
def test_closing_before_a_passed_recheck_says_why(stage):
    with pytest.raises(loop.TransitionError, match="须复查通过后才能销号"):
        loop.next_stage(stage, "销号")


def test_skipping_names_the_next_step():
    with pytest.raises(loop.TransitionError, match="下一步只能是：交办"):
        loop.next_stage("发现", "整改中")


def test_unknown_stage_is_refused():
    with pytest.raises(loop.TransitionError, match="未知阶段"):
        loop.allowed_steps("已完成")


def _history(*steps):
    return pd.DataFrame({"step": list(steps),
                         "time": pd.date_range("2022-04-01 09:00", periods=len(steps), freq="h")})


@pytest.mark.parametrize("steps, passed", [
    ((), False),
    (("发现", "反馈", "整改中"), False),
    (("发现", "反馈", "整改中", "复查"), True),
    (("发现", "反馈", "整改中", "复查", "复查未通过"), False),
    (("发现", "反馈", "整改中", "复查", "复查未通过", "整改中"), False),
    (("发现", "反馈", "整改中", "复查", "复查未通过", "整改中", "复查"), True),
])
def test_passed_recheck_reads_the_latest_recheck(steps, passed):
    assert loop.passed_recheck(_history(*steps)) is passed


def test_check_step_requires_unit_person_deadline_to_assign():
    problem = {"stage": "发现", "date": date(2022, 4, 5)}
    with pytest.raises(loop.TransitionError, match="责任单位、责任人、整改时限"):
        loop.check_step(problem, "反馈", {"who": "督查中心"})
    with pytest.raises(loop.TransitionError, match="经办人"):
        loop.check_step(problem, "反馈", {"unit": "甲村", "person": "张三", "deadline": date(2022, 4, 7)})
    with pytest.raises(loop.TransitionError, match="早于督查日期"):
        loop.check_step(problem, "反馈", {"who": "x", "unit": "甲村", "person": "张三", "deadline": date(2022, 4, 1)})
    assert loop.check_step(problem, "反馈", {"who": "x", "unit": "甲村", "person": "张三",
                                             "deadline": date(2022, 4, 7)}) == "反馈"


def test_check_step_closes_only_after_a_passed_recheck_in_the_history():
    problem = {"stage": "复查", "date": date(2022, 4, 5)}
    failed_last = _history("发现", "反馈", "整改中", "复查", "复查未通过", "整改中")
    with pytest.raises(loop.TransitionError, match="复查未通过或没有复查记录"):
        loop.check_step(problem, "销号", {"who": "x"}, failed_last)
    assert loop.check_step(problem, "销号", {"who": "x"}, _history("发现", "反馈", "整改中", "复查")) == "销号"


def test_progress_and_failure_need_a_note():
    with pytest.raises(loop.TransitionError, match="情况说明"):
        loop.check_step({"stage": "反馈"}, "整改中", {"who": "x", "note": "  "})
    with pytest.raises(loop.TransitionError, match="情况说明"):
        loop.check_step({"stage": "复查"}, "复查未通过", {"who": "x"})


def test_replay_checks_a_whole_history():
    assert loop.replay(_history("发现", "反馈", "整改中", "复查", "复查未通过", "整改中", "复查", "销号")) == "销号"
    with pytest.raises(loop.TransitionError):
        loop.replay(_history("发现", "整改中"))
    with pytest.raises(loop.TransitionError, match="从「发现」开始"):
        loop.replay(_history("反馈"))


def test_every_demo_history_follows_the_loop(demo_data):
    problems = demo_data.ledgers["problems"].set_index("problem_no")
    events = demo_data.ledgers["problem_events"]
    for number, history in events.groupby("problem_no"):
        assert loop.replay(history) == problems.loc[number, "stage"], number
    assert set(problems.index) == set(events["problem_no"])


# -- Overdue, filters, board ------------------------------------------------------------------


def _problems(rows):
    frame = pd.DataFrame(rows)
    for col in ("date", "deadline", "done_date"):
        frame[col] = pd.to_datetime(frame.get(col))
    return frame


PROBLEMS = _problems([
    # number, found, deadline, stage, team, village
    dict(problem_no="P1", date="2022-04-01", deadline="2022-04-03", stage="整改中", team="第一督查组", village="甲村",
         category="宣传", unit="甲村党支部"),
    dict(problem_no="P2", date="2022-04-01", deadline="2022-04-03", stage="销号", team="第一督查组", village="甲村",
         category="宣传", unit="甲村党支部"),
    dict(problem_no="P3", date="2022-04-05", deadline="2022-04-07", stage="反馈", team="第二督查组", village="乙村",
         category="物资", unit="乙村党支部"),
    dict(problem_no="P4", date="2022-04-02", deadline="2022-04-06", stage="复查", team="第二督查组", village="乙村",
         category="物资", unit="乙村党支部"),
    dict(problem_no="P5", date="2022-04-06", deadline=None, stage="发现", team="第三督查组", village="丙村",
         category="宣传", unit=None),
    dict(problem_no="P6", date="2022-04-09", deadline="2022-04-10", stage="发现", team="第三督查组", village="丙村",
         category="宣传", unit=None),  # found after the day looked at
])


def test_overdue_is_past_deadline_and_not_closed():
    late = loop.overdue_problems(PROBLEMS, DAY)
    # P1 (deadline 04-03, 整改中) and P4 (04-06, 复查); not P2 (closed), not
    # P3 (deadline is today), not P5 (no deadline), not P6 (not found yet).
    assert late["problem_no"].tolist() == ["P1", "P4"]
    assert late["days_overdue"].tolist() == [4, 1]
    assert list(late.columns) == list(loop.OVERDUE_COLUMNS)
    assert loop.overdue_problems(PROBLEMS, date(2022, 4, 3)).empty


def test_filters_combine():
    day = DAY
    assert set(loop.filter_problems(PROBLEMS, day)["problem_no"]) == {"P1", "P2", "P3", "P4", "P5"}
    assert set(loop.filter_problems(PROBLEMS, day, team="第二督查组")["problem_no"]) == {"P3", "P4"}
    assert set(loop.filter_problems(PROBLEMS, day, village="甲村", overdue=True)["problem_no"]) == {"P1"}
    assert set(loop.filter_problems(PROBLEMS, day, category="宣传", unit="甲村党支部")["problem_no"]) == {"P1", "P2"}


def test_board_has_every_stage_overdue_first():
    rows = loop.filter_problems(PROBLEMS, DAY)
    board = loop.board(rows)
    assert list(board) == list(PROBLEM_STAGES)
    assert {k: v["problem_no"].tolist() for k, v in board.items()} == {
        "发现": ["P5"], "反馈": ["P3"], "整改中": ["P1"], "复查": ["P4"], "销号": ["P2"]}


VISITS = pd.DataFrame({
    "date": pd.to_datetime(["2022-03-30", "2022-04-01", "2022-04-02", "2022-04-05", "2022-04-06"]),
    "team": ["第一督查组", "第一督查组", "第二督查组", "第二督查组", "第三督查组"],
    "village": ["甲村", "甲村", "乙村", "乙村", "丙村"],
})
EVENTS = pd.DataFrame({"problem_no": ["P2"], "step": ["销号"], "time": [datetime(2022, 4, 4, 10)]})


def test_counts_by_team_and_week():
    weekly = loop.counts_over_time(PROBLEMS, EVENTS, VISITS, DAY, by="team")
    assert sorted(weekly["week"].dt.strftime("%m-%d").unique()) == ["03-28", "04-04"]
    first = weekly[weekly["key"] == "第一督查组"]
    first = first.set_index(first["week"].dt.strftime("%m-%d"))
    # at the end of that week (Sunday 04-03) the deadline 04-03 had not passed yet
    assert first.loc["03-28", ["visits", "found", "closed", "overdue"]].tolist() == [2, 2, 0, 0]
    assert first.loc["04-04", ["visits", "found", "closed", "overdue"]].tolist() == [0, 0, 1, 1]
    # totals agree with the per-team summary
    totals = weekly.groupby("key")[["visits", "found", "closed"]].sum()
    summary = loop.summarize_by(PROBLEMS, VISITS, DAY, by="team")
    assert totals["visits"].to_dict() == summary["visits"].to_dict()
    assert totals["found"].to_dict() == summary["found"].to_dict()
    assert summary.loc["第一督查组"].to_dict() == {"visits": 2, "found": 2, "closed": 1, "open": 1, "overdue": 1}


def test_counts_by_village_list_every_village_asked_for():
    table = loop.summarize_by(PROBLEMS, VISITS, DAY, by="village", keys=["甲村", "乙村", "丙村", "丁村"])
    assert table.loc["丁村"].sum() == 0
    assert table.loc["乙村", "overdue"] == 1


def test_team_workload():
    load = loop.team_workload(PROBLEMS, VISITS, DAY)
    assert list(load.index) == ["第一督查组", "第二督查组", "第三督查组"]
    assert load.loc["第一督查组"].to_dict() == {"open": 1, "fixing": 1, "reported_done": 0, "to_close": 0,
                                               "overdue": 1, "visits_7d": 1, "visits": 2}
    assert load.loc["第二督查组", "to_close"] == 1 and load.loc["第三督查组", "open"] == 1


def test_problem_numbers_continue_the_sequence():
    assert loop.next_problem_no(["DC2022-001", "DC2022-034", "X-9", None], 2022) == "DC2022-035"
    assert loop.next_problem_no([], 2023) == "DC2023-001"


def test_the_demo_carries_the_seed_numbers(demo_data):
    """DOMAIN.md §1: 3 teams, 60+ visits, 30+ problems in every stage; each
    problem came from a recorded visit."""
    visits, problems = demo_data.ledgers["supervisions"], demo_data.ledgers["problems"]
    assert len(visits) >= 60 and set(visits["team"]) == {"第一督查组", "第二督查组", "第三督查组"}
    assert len(problems) >= 30 and set(problems["stage"]) == set(PROBLEM_STAGES)
    assert visits["problems_found"].sum() == len(problems)
    keys = set(zip(visits["date"], visits["team"], visits["target"]))
    assert all(k in keys for k in zip(problems["date"], problems["team"], problems["target"]))
    late = loop.overdue_problems(problems, demo_data.today)
    assert 0 < len(late) < (problems["stage"] != "销号").sum()
