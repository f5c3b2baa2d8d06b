"""Every action commits whole or not at all (SQLite and PostgreSQL).

Each action is run with its k-th audited write failing, for k = 1, 2, …
until it runs through: after every interruption the whole store (ledgers,
audit log, meta and lock rows) must be exactly as before, and the action
must have written something once it runs through. The failure is raised by
the real audit write inside the transaction, as a lost connection would be.
"""

from __future__ import annotations

import threading
from datetime import date

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

import fangkong_lib.actions as A
from fangkong_lib import store
from tests.store.test_workflow import P1, P3, P5, RETURNEES, SECTIONS, idn

DAY = date(2022, 4, 7)
USER = "张干事"
OK = dict(code_posted=True, scan_enforced=True, temperature=True, masks=True, crowd_limit=True,
          disinfection_log=True, staff_health_log=True)


class PowerCut(RuntimeError):
    """The failure injected into a write."""


@pytest.fixture
def engine(migrated_db_url):
    """The hand-made township of test_workflow, with a place, a problem and
    some supplies."""
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    frames = {
        **SECTIONS,
        "returnees": RETURNEES,
        "away": [dict(village="柳湾村", grid="CJ01-01-1", name="丙三", sex="男", id_number=P3, phone="13812345678",
                      province="江苏省", intends_return=True, expected_return=date(2022, 4, 9), returned=False)],
        "tests": [dict(id_number=P5, name="戊五", village="杏园村", sample_date=date(2022, 4, 1), result="阴性"),
                  dict(id_number=P5, name="戊五", village="杏园村", sample_date=date(2022, 4, 3), result="阴性")],
        "places": [dict(code="ZKT2000001", name="柳湾村王记超市", category="超市", village="柳湾村", manager="王五",
                        manager_phone="13800000001", code_posted=True, status="正常营业")],
        "problems": [dict(problem_no="DC2022-001", date=date(2022, 4, 5), team="第一督查组", target="柳湾村",
                          target_type="村", village="柳湾村", category="宣传", description="宣传不到位",
                          deadline=date(2022, 4, 7), stage="发现", accountability="无")],
        "problem_events": [dict(problem_no="DC2022-001", step="发现", time=pd.Timestamp("2022-04-05 10:00"),
                                who="第一督查组", note="宣传不到位")],
        "donations": [dict(voucher_no="JZ2022-001", date=date(2022, 3, 20), donor="甲公司", donor_type="单位",
                           item="口罩", unit="盒", quantity=100.0, value=2500.0, location="乡政府物资库")],
    }
    for key, rows in frames.items():
        store.write_ledger(engine, key, pd.DataFrame(rows), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    A.refresh_plans(engine, user="setup")
    yield engine
    engine.dispose()


def snapshot(engine) -> dict[str, list[str]]:
    """Every row of every table, audit log and meta included."""
    with engine.connect() as conn:
        return {table.name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
                for table in store.metadata.sorted_tables}


def interrupt_at_every_write(engine, monkeypatch, call) -> int:
    """Run ``call`` with its k-th audit write failing, k = 1, 2, … until it
    runs through; return how many writes were interrupted."""
    before = snapshot(engine)
    real = store.audit
    k = 0
    while True:
        k += 1
        seen = 0

        def failing(conn, **kw):
            nonlocal seen
            seen += 1
            if seen == k:
                real(conn, **kw)  # the write itself goes through; the failure comes after it
                raise PowerCut(f"write {k} interrupted")
            real(conn, **kw)

        monkeypatch.setattr(store, "audit", failing)
        try:
            call()
        except PowerCut:
            assert snapshot(engine) == before, f"partial write left after interrupting write {k}"
            continue
        finally:
            monkeypatch.setattr(store, "audit", real)
        break
    assert snapshot(engine) != before, "the action wrote nothing once it ran through"
    return k - 1


def _returnee_file(tmp_path, arrival: str, category: str):
    path = tmp_path / "returnees.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "身份证号", "手机号", "村", "网格", "来源地风险类别", "预计到达时间", "实际到达时间"])
    ws.append(["壬九", "男", idn(27), "13912345670", "柳湾村", "CJ01-01-1", category, arrival, arrival])
    ws.append(["癸十", "男", idn(29), "13912345671", "柳湾村", "CJ01-01-1", category, arrival, arrival])
    wb.save(path)
    return path


ACTIONS = [
    # (name, call(engine, tmp_path), at least this many audited writes)
    ("record_test", lambda e, t: A.record_test(e, P1, {"sample_date": DAY, "result": "阴性"}, user=USER), 1),
    ("record_temperature",
     lambda e, t: A.record_temperature(e, P1, {"date": DAY, "slot": "上午", "temperature": "36.6"}, user=USER), 1),
    ("record_release", lambda e, t: A.record_release(e, P5, {"released_date": DAY}, user=USER), 1),
    ("record_arrival", lambda e, t: A.record_arrival(e, P3, {"actual_arrival": DAY}, user=USER), 3),
    ("record_preregistration",
     lambda e, t: A.record_preregistration(e, {"risk_category": "中风险区", "actual_arrival": "2022-04-06"},
                                           user=USER, away_id=P3), 3),
    ("refresh_plans", lambda e, t: A.refresh_plans(e, user=USER), 2),
    ("ensure_plans_current", lambda e, t: A.ensure_plans_current(e), 2),
    ("record_inspection",
     lambda e, t: A.record_inspection(e, dict(date=DAY, place_code="ZKT2000001", **{**OK, "masks": False,
                                                                                     "temperature": False}),
                                      user=USER), 6),
    ("open_problem",
     lambda e, t: A.open_problem(e, dict(date=DAY, team="第二督查组", target="柳湾村", target_type="村", village="柳湾村",
                                         category="宣传", description="无宣传"), user=USER), 3),
    ("apply_steps",
     lambda e, t: A.apply_steps(e, "DC2022-001", [A.Step("反馈", unit="柳湾村党支部", person="张三",
                                                       deadline=date(2022, 4, 9)),
                                                  A.Step("整改中", note="已整改", done=True)], user=USER, day=DAY), 3),
    ("set_accountability", lambda e, t: A.set_accountability(e, "DC2022-001", "约谈", user=USER), 1),
    ("receive_supplies",
     lambda e, t: A.receive_supplies(e, dict(date=DAY, donor="乙公司", item="口罩", quantity=5, location="卫生院"),
                                     user=USER), 1),
    ("issue_supplies",
     lambda e, t: A.issue_supplies(e, dict(date=DAY, item="口罩", quantity=5, location="乡政府物资库",
                                           recipient_type="村", recipient="柳湾村"), user=USER), 1),
    ("import_ledger",
     lambda e, t: A.import_ledger(e, "returnees", _returnee_file(t, "2022-04-06", "中风险区"), user=USER), 3),
]


@pytest.mark.parametrize("name, call, writes", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_an_interrupted_action_leaves_nothing_partial(engine, monkeypatch, tmp_path, name, call, writes):
    if name in ("refresh_plans", "ensure_plans_current"):
        # Two corrected categories (written directly, as an import of old would):
        # the refresh has two plans to change.
        for person in (P1, P5):
            store.upsert_row(engine, "returnees", {"id_number": person, "risk_category": "中风险区"}, user="村干部")
    assert interrupt_at_every_write(engine, monkeypatch, lambda: call(engine, tmp_path)) >= writes


def test_a_refused_action_holds_no_lock(engine):
    """After a refusal the next action of the subject goes through at once."""
    with pytest.raises(A.ActionError):
        A.record_arrival(engine, P1, {"actual_arrival": DAY}, user=USER)  # arrived already
    assert "到达" in A.record_arrival(engine, P3, {"actual_arrival": DAY}, user=USER)


def test_two_kernels_cannot_both_record_the_same_arrival(engine):
    """Two operators record the same arrival at the same moment: the check
    and the write are one locked transaction, so exactly one wins."""
    start, outcomes = threading.Barrier(2), []

    def arrive():
        start.wait()
        try:
            outcomes.append(A.record_arrival(engine, P3, {"actual_arrival": DAY}, user=USER))
        except A.ActionError as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=arrive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    refused = [o for o in outcomes if o.startswith("refused")]
    assert len(outcomes) == 2 and len(refused) == 1 and "已于 2022-04-07 登记到达" in refused[0], outcomes
    audit = store.load_audit(engine, "controls")
    assert (audit["row_key"].str.contains(P3)).sum() == 1  # one plan made, once
