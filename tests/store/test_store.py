"""The store on both backends: SQLite file and a real PostgreSQL server."""

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from fangkong_lib import store
from fangkong_lib.demo import build_demo


def _engine(url):
    engine = store.get_engine(url)
    store.init_db(engine)
    return engine


def test_round_trip_keeps_types_and_chinese_text(migrated_db_url):
    engine = _engine(migrated_db_url)
    frame = pd.DataFrame([{
        "report_date": date(2022, 4, 5), "name": "张三", "id_number": "11010519491231002X",
        "phone": "13812341234", "village": "城郊村", "risk_category": "上海",
        "expected_arrival": date(2022, 4, 8), "trip_star": True,
        "test48_time": datetime(2022, 4, 4, 9, 30), "companions": None,
    }])
    assert store.write_ledger(engine, "returnees", frame, user="tester") == 1
    back = store.load_ledger(engine, "returnees")
    row = back.iloc[0]
    assert row["name"] == "张三" and row["village"] == "城郊村"
    assert row["report_date"] == pd.Timestamp("2022-04-05")
    assert row["test48_time"] == pd.Timestamp("2022-04-04 09:30")
    assert bool(row["trip_star"]) is True
    assert row["companions"] is None
    assert list(back.columns) == store.get_ledger("returnees").columns


def test_upsert_is_audited_with_before_and_after(migrated_db_url):
    engine = _engine(migrated_db_url)
    rec = {"id_number": "11010519491231002X", "name": "李四", "village": "城郊村", "phone": "13812341234",
           "risk_category": "上海"}
    assert store.upsert_row(engine, "returnees", rec, user="clerk") == "inserted"
    assert store.upsert_row(engine, "returnees", rec, user="clerk") == "unchanged"
    assert store.upsert_row(engine, "returnees", {**rec, "phone": "13912341234"}, user="clerk") == "updated"
    audit = store.load_audit(engine, "returnees")
    assert list(audit["action"]) == ["insert", "update"]
    last = audit.iloc[-1]
    assert last["user"] == "clerk" and "13812341234" in last["before"] and "13912341234" in last["after"]
    assert store.count_rows(engine, "returnees") == 1


def test_failed_bulk_write_leaves_nothing(migrated_db_url):
    engine = _engine(migrated_db_url)
    rows = pd.DataFrame([
        {"code": "CJ01-01-1", "village": "甲村", "natural_village": "甲庄"},
        {"code": "CJ01-01-1", "village": "甲村", "natural_village": "甲庄"},  # violates the natural key
    ])
    try:
        store.write_ledger(engine, "grids", rows)
    except sa.exc.IntegrityError:
        pass
    assert store.count_rows(engine, "grids") == 0
    assert store.load_audit(engine, "grids").empty


def test_demo_builds_on_both_backends(db_url):
    counts = build_demo(db_url)
    engine = store.get_engine(db_url)
    assert counts["grids"] == store.count_rows(engine, "grids") == 376
    assert store.get_meta(engine)["synthetic"] == "1"
    grids = store.load_ledger(engine, "grids")
    assert grids["geometry"].str.startswith("POLYGON").all()


def test_sqlite_uses_wal(tmp_path):
    engine = _engine(f"sqlite:///{tmp_path}/x.sqlite")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.postgres
def test_same_figures_on_both_backends(postgres_url, demo_db):
    """The dashboards must not depend on the backend: the overview of the
    demo is the same on SQLite and PostgreSQL."""

    from fangkong_lib.domain.overview import summarize_overview

    pg = sa.make_url(postgres_url)
    build_demo(postgres_url)
    a = summarize_overview(store.load_ledgers(store.get_engine(demo_db)), date(2022, 4, 7))
    b = summarize_overview(store.load_ledgers(store.get_engine(pg.render_as_string(False))), date(2022, 4, 7))
    assert a.kpis == b.kpis
    pd.testing.assert_frame_equal(a.by_village, b.by_village)


def test_reads_inside_a_transaction_see_its_own_writes(migrated_db_url):
    """What the actions rely on: a check read through the writing connection
    sees that transaction's own rows and meta, and nothing of it remains
    after a rollback."""
    engine = _engine(migrated_db_url)
    store.set_meta(engine, today="2022-04-07")
    rec = {"id_number": "11010519491231002X", "name": "李四", "village": "城郊村", "phone": "13812341234",
           "risk_category": "上海"}
    with engine.connect() as conn:
        with conn.begin() as tx:
            store.upsert_in(conn, "returnees", rec, user="t")
            store.set_meta(conn, today="2022-04-08")
            assert store.load_ledger(conn, "returnees")["name"].tolist() == ["李四"]
            assert store.count_rows(conn, "returnees") == 1
            assert store.data_today(store.get_meta(conn)) == date(2022, 4, 8)
            tx.rollback()
    assert store.count_rows(engine, "returnees") == 0
    assert store.data_today(store.get_meta(engine)) == date(2022, 4, 7)


@pytest.mark.parametrize("meta, today", [
    ({"today": "2022-04-07"}, date(2022, 4, 7)),
    ({"synthetic": "1"}, date(2022, 4, 7)),  # the demo's day
    ({}, date.today()),  # real data without a set day: the calendar
])
def test_the_datas_today(meta, today):
    assert store.data_today(meta) == today
