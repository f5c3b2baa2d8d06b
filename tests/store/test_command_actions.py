"""The command's writes on SQLite and PostgreSQL (指挥调度): a meeting's
decisions become tasks that run through the rectification loop's own
machinery to 办结, audited; a refused meeting or step writes nothing; a
corrected village report keeps the time it first came in."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import fangkong_lib.actions as A
from fangkong_lib import store
from fangkong_lib.domain import problems as loop
from fangkong_lib.domain.reports import REPORT_LATE, REPORT_ON_TIME, village_report_status

DAY = date(2022, 4, 7)
HQ = "城郊乡疫情防控指挥部"
TASKS = loop.TASK_LOOP


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    store.write_ledger(engine, "villages", pd.DataFrame([dict(code="411625200201", name="柳湾村"),
                                                        dict(code="411625200202", name="杏园村")]), user="setup")
    store.write_ledger(engine, "command_units", pd.DataFrame([
        dict(unit=HQ, kind="乡指挥部", lead="刘指挥", lead_phone="13800000001"),
        dict(unit="柳湾村党支部", kind="村党支部", parent=HQ, village="柳湾村", lead="王支书", lead_phone="13800000002"),
        dict(unit="排查管控组", kind="工作专班", parent=HQ, lead="赵组长", lead_phone="13800000003"),
    ]), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    yield engine
    engine.dispose()


def counts(engine) -> dict[str, int]:
    keys = ("meetings", "tasks", "task_events", "problems", "problem_events")
    return {k: store.count_rows(engine, k) for k in keys} | {"audit": len(store.load_audit(engine))}


MEETING = dict(date="2022-04-07", kind="早会商", unit=HQ, held_at="2022-04-07 07:35", host="刘指挥", expected=12,
               present=11, topics="返乡人员管控")
DECISIONS = [
    dict(description="对柳湾村近3日返乡人员逐户再核查", unit="排查管控组", person="赵组长", deadline=date(2022, 4, 8),
         village="柳湾村"),
    dict(description="柳湾村落实党员联户每日走访", unit="柳湾村党支部", person="王支书", deadline=date(2022, 4, 9)),
]


def test_decisions_become_tasks_that_run_the_loop_to_done(engine):
    result = A.record_meeting(engine, MEETING, DECISIONS, user="记录员")
    assert result.task_nos == ["JB2022-001", "JB2022-002"] and "JB2022-001" in result.message
    frames = store.load_ledgers(engine, ["meetings", "tasks", "task_events"])
    meeting = frames["meetings"].iloc[0]
    assert meeting["present"] == 11 and "逐户再核查" in meeting["decisions"]
    tasks = frames["tasks"].set_index("task_no")
    assert tasks.loc["JB2022-001", "stage"] == loop.ASSIGNED  # 已交办: unit, person and deadline set
    assert tasks.loc["JB2022-001", "unit"] == "排查管控组" and tasks.loc["JB2022-001", "village"] == "柳湾村"
    assert tasks.loc["JB2022-002", "source"] == "早会商" and tasks.loc["JB2022-002", "meeting_unit"] == HQ
    history = loop.problem_history(frames["task_events"], "JB2022-001", kind=TASKS)
    assert history["step"].tolist() == [loop.FOUND, loop.ASSIGNED]

    # the loop's own steps, on the tasks' ledgers
    with pytest.raises(A.ActionError, match="须核验通过后才能办结"):
        A.apply_step(engine, "JB2022-001", loop.CLOSED, user="督办员", day=DAY, kind=TASKS)
    A.apply_step(engine, "JB2022-001", loop.FIXING, user="赵组长", day=DAY, kind=TASKS, note="已核查12户", done=True)
    failed = A.recheck(engine, "JB2022-001", False, user="督办员", day=DAY, note="漏查2户", kind=TASKS)
    assert failed.stage == loop.FIXING and "核验未通过，退回办理" in failed.message
    A.apply_step(engine, "JB2022-001", loop.FIXING, user="赵组长", day=DAY, kind=TASKS, note="已补查", done=True)
    assert A.recheck(engine, "JB2022-001", True, user="督办员", day=DAY, kind=TASKS).stage == loop.RECHECKED
    assert A.apply_step(engine, "JB2022-001", loop.CLOSED, user="督办员", day=DAY, kind=TASKS).stage == loop.CLOSED

    frames = store.load_ledgers(engine, ["tasks", "task_events"])
    task = frames["tasks"].set_index("task_no").loc["JB2022-001"]
    assert task["stage"] == loop.CLOSED and task["rechecker"] == "督办员" and pd.Timestamp(task["done_date"]) == \
        pd.Timestamp(DAY)
    steps = loop.problem_history(frames["task_events"], "JB2022-001", kind=TASKS)["step"].tolist()
    assert loop.replay(pd.DataFrame({"step": steps, "time": range(len(steps))})) == loop.CLOSED
    assert steps.count(loop.FAILED) == 1
    audit = store.load_audit(engine)
    assert {"meetings", "tasks", "task_events"} <= set(audit[audit["user"] == "记录员"]["ledger"])
    assert set(audit[audit["user"] == "督办员"]["ledger"]) == {"tasks", "task_events"}
    # the supervision problems are another loop: untouched
    assert counts(engine)["problems"] == counts(engine)["problem_events"] == 0


def test_a_refused_meeting_or_step_writes_nothing(engine):
    before = counts(engine)
    with pytest.raises(A.ActionError, match="不是指挥体系中的单位"):
        A.record_meeting(engine, {**MEETING, "unit": "不存在的专班"}, DECISIONS, user="记录员")
    with pytest.raises(A.ActionError, match="议定事项2.*须填写责任单位、完成时限"):
        A.record_meeting(engine, MEETING, [DECISIONS[0], dict(description="无人负责的事", person="某人")],
                         user="记录员")
    with pytest.raises(A.ActionError, match="实到人数多于应到人数"):
        A.record_meeting(engine, {**MEETING, "present": 13}, DECISIONS, user="记录员")
    with pytest.raises(A.ActionError, match="完成时限 2022-04-06 早于交办日期"):
        A.record_meeting(engine, MEETING, [{**DECISIONS[0], "deadline": date(2022, 4, 6)}], user="记录员")
    assert counts(engine) == before
    A.record_meeting(engine, MEETING, DECISIONS[:1], user="记录员")
    after = counts(engine)
    with pytest.raises(A.ActionError, match="没有编号为 JB2022-009 的交办事项"):
        A.apply_step(engine, "JB2022-009", loop.FIXING, user="督办员", day=DAY, kind=TASKS, note="x")
    with pytest.raises(A.ActionError, match="须填写：情况说明"):
        A.apply_step(engine, "JB2022-001", loop.FIXING, user="督办员", day=DAY, kind=TASKS)
    assert counts(engine) == after
    # the same meeting again: updated, its new decision added, numbering continues
    again = A.record_meeting(engine, {**MEETING, "present": 12}, DECISIONS[1:], user="记录员")
    assert again.task_nos == ["JB2022-002"]
    meetings = store.load_ledger(engine, "meetings")
    assert len(meetings) == 1 and meetings.iloc[0]["present"] == 12
    assert "逐户再核查" in meetings.iloc[0]["decisions"] and "党员联户" in meetings.iloc[0]["decisions"]


def test_a_corrected_village_report_keeps_its_first_time(engine):
    A.record_village_report(engine, dict(date="2022-04-07", village="柳湾村", reported_at="2022-04-07 16:10",
                                         zero_report=True), user="柳湾村文书")
    message = A.record_village_report(engine, dict(date="2022-04-07", village="柳湾村",
                                                   reported_at="2022-04-07 18:40", zero_report=False, arrivals=2),
                                      user="柳湾村文书")
    assert "已更正" in message and "16:10" in message
    A.record_village_report(engine, dict(date="2022-04-07", village="杏园村", reported_at="2022-04-07 17:25"),
                            user="杏园村文书")
    status = village_report_status(store.load_ledgers(engine, ["villages", "village_reports"]), DAY)["status"]
    assert status.to_dict() == {"柳湾村": REPORT_ON_TIME, "杏园村": REPORT_LATE}
    with pytest.raises(A.ActionError, match="早于报告日期"):
        A.record_village_report(engine, dict(date="2022-04-07", village="杏园村", reported_at="2022-04-06 17:00"),
                                user="杏园村文书")
