"""Reading one township or one village of a shared database: every row
knows its township (``owner_township``, filled by the store), and a scoped
Dataset's SQL reads no other township's rows. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from fangkong_lib import store
from fangkong_lib.dataset import Dataset, county_table

DAY = date(2022, 4, 7)
VILLAGES = [
    dict(code="411625200201", name="柳湾村", township="城郊乡"),
    dict(code="411625200202", name="杏园村", township="城郊乡"),
    dict(code="411625201201", name="虎岗村", township="虎岗乡"),
]


def person(i: int, village: str) -> dict:
    return dict(id_number=f"41162519900101{i:04d}", name=f"人员{i}", village=village, phone="13800000000",
                risk_category="省外低风险地区", actual_arrival=DAY if i % 2 else None)


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    store.write_ledger(engine, "villages", pd.DataFrame(VILLAGES), user="setup")
    people = [person(i, v) for i, v in enumerate(["柳湾村"] * 3 + ["杏园村"] * 2 + ["虎岗村"] * 4)]
    store.write_ledger(engine, "returnees", pd.DataFrame(people), user="setup")
    store.write_ledger(engine, "problems", pd.DataFrame([
        dict(problem_no="P1", village="柳湾村", date=DAY, stage="发现"),
        dict(problem_no="P2", village="虎岗村", date=DAY, stage="发现"),
    ]), user="setup")
    store.write_ledger(engine, "problem_events", pd.DataFrame([
        dict(problem_no="P1", step="发现", time=pd.Timestamp(DAY)),
        dict(problem_no="P2", step="发现", time=pd.Timestamp(DAY)),
    ]), user="setup")
    with store.writing_for("虎岗乡"):  # a township-level row names no village
        store.write_ledger(engine, "donations", pd.DataFrame([dict(voucher_no="J1", item="口罩", quantity=10)]),
                           user="setup")
    store.set_meta(engine, scale="county", today=DAY.isoformat())
    yield engine
    store.forget_villages()


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["village"])


def test_a_township_reads_only_its_own_rows(engine, migrated_db_url):
    whole = Dataset.load(migrated_db_url, reload=True)
    assert len(whole.ledgers["returnees"]) == 9
    hugang = Dataset.load(migrated_db_url, township="虎岗乡", reload=True)
    assert ids(hugang.ledgers["returnees"]) == {"虎岗村"}
    assert hugang.village_names == ["虎岗村"]
    assert list(hugang.ledgers["donations"]["voucher_no"]) == ["J1"]
    chengjiao = Dataset.load(migrated_db_url, township="城郊乡", reload=True)
    assert ids(chengjiao.ledgers["returnees"]) == {"柳湾村", "杏园村"}
    assert chengjiao.ledgers["donations"].empty  # the other township's donation is not read
    assert chengjiao.township == "城郊乡" and not chengjiao.county and whole.county


def test_a_village_reads_its_people_and_its_problems_events(engine, migrated_db_url):
    liuwan = Dataset.load(migrated_db_url, village="柳湾村", reload=True)
    assert liuwan.scope == store.Scope("城郊乡", "柳湾村")  # the township is looked up
    assert ids(liuwan.ledgers["returnees"]) == {"柳湾村"} and len(liuwan.ledgers["returnees"]) == 3
    assert list(liuwan.ledgers["problem_events"]["problem_no"]) == ["P1"]
    assert liuwan.village_names == ["柳湾村"]


def test_rows_written_later_get_the_township_of_their_village(engine, migrated_db_url):
    store.upsert_row(engine, "returnees", person(99, "虎岗村"), user="clerk")
    with engine.connect() as conn:
        table = store.TABLES["returnees"]
        owner = conn.execute(sa.select(table.c[store.OWNER]).where(table.c.id_number == person(99, "")["id_number"]))
        assert owner.scalar() == "虎岗乡"


def test_an_action_of_a_township_page_writes_township_rows_for_that_township(engine, migrated_db_url):
    from fangkong_lib.actions.base import transaction

    hugang = Dataset.load(migrated_db_url, township="虎岗乡", reload=True)
    with transaction(hugang, "supplies", user="clerk") as tx:
        tx.upsert("donations", dict(voucher_no="J2", item="消毒液", quantity=5))
    assert set(hugang.ledgers["donations"]["voucher_no"]) == {"J1", "J2"}  # re-read after the commit
    chengjiao = Dataset.load(migrated_db_url, township="城郊乡", reload=True)
    assert chengjiao.ledgers["donations"].empty


def test_the_county_table_is_counted_per_township_by_the_database(engine, migrated_db_url):
    table = county_table(engine, DAY)
    assert list(table.index) == ["城郊乡", "虎岗乡", "合计"]
    assert table.loc["城郊乡", "行政村"] == 2 and table.loc["虎岗乡", "行政村"] == 1
    assert table.loc["城郊乡", "今日返乡"] == 2 and table.loc["虎岗乡", "今日返乡"] == 2
    assert table.loc["城郊乡", "未销号问题"] == 1 and table.loc["合计", "未销号问题"] == 2


def test_a_database_made_before_townships_is_upgraded_to_one_township(engine, migrated_db_url):
    from alembic import command

    from fangkong_lib import migrations

    with engine.begin() as conn:  # back to the schema before townships
        command.downgrade(migrations._config(conn), "0002")
    store.forget_villages()
    result = store.init_db(engine)
    assert "0003" in result.applied
    chengjiao = Dataset.load(migrated_db_url, township="城郊乡", reload=True)
    assert len(chengjiao.ledgers["returnees"]) == 9  # every row of the old database, none lost
    assert list(chengjiao.ledgers["donations"]["voucher_no"]) == ["J1"]
    assert set(chengjiao.ledgers["villages"]["township"]) == {"城郊乡"}
    assert store.townships(engine) == ["城郊乡"]


def test_an_analyst_reads_any_ledger_of_one_township_in_one_call(engine, migrated_db_url):
    import fangkong_lib

    assert ids(fangkong_lib.read_ledger("returnees", migrated_db_url, township="虎岗乡")) == {"虎岗村"}
    assert len(fangkong_lib.read_ledger("returnees", migrated_db_url, village="杏园村")) == 2
    assert len(fangkong_lib.read_ledger("returnees", migrated_db_url)) == 9


def test_a_township_page_cannot_write_a_row_for_another_townships_village(engine, migrated_db_url):
    from fangkong_lib.actions import ActionError
    from fangkong_lib.actions.records import save_record

    hugang = Dataset.load(migrated_db_url, township="虎岗乡", reload=True)
    with pytest.raises(ActionError, match="柳湾村"):
        save_record(hugang, "places", dict(code="ZKT9", name="某超市", category="超市", village="柳湾村"), user="clerk")
    assert store.count_rows(engine, "places") == 0
    save_record(hugang, "places", dict(code="ZKT9", name="某超市", category="超市", village="虎岗村"), user="clerk")
    assert list(hugang.ledgers["places"]["village"]) == ["虎岗村"]
