"""The throw-away PostgreSQL server and the per-test database fixtures."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

try:
    import pgserver
except ImportError:  # pragma: no cover
    from tests import pgserver

VILLAGE = "城郊村"


def _table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_server_stores_chinese_text(postgres_url: str) -> None:
    url = sa.make_url(postgres_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "127.0.0.1"
    assert url.database == "fangkong_test"

    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
            conn.exec_driver_sql(
                "CREATE TABLE pg_smoke (id serial PRIMARY KEY, village text NOT NULL)"
            )
            conn.execute(
                sa.text("INSERT INTO pg_smoke (village) VALUES (:v)"), {"v": VILLAGE}
            )
            found = conn.execute(
                sa.text("SELECT village FROM pg_smoke WHERE village = :v"), {"v": VILLAGE}
            ).scalar_one()
            assert found == VILLAGE
            conn.exec_driver_sql("DROP TABLE pg_smoke")
    finally:
        engine.dispose()


@pytest.fixture
def open_connections() -> Iterator[list[sa.Connection]]:
    """Connections a test leaves open; closed after the other fixtures' teardown.

    Request it before ``db_url``: fixtures are torn down in reverse order, so
    the database is dropped while these connections are still open.
    """
    connections: list[sa.Connection] = []
    yield connections
    for conn in connections:
        conn.invalidate()  # the server may have closed it; do not roll back
        conn.engine.dispose()


# Each of the two tests below checks that its database is empty, then leaves a
# table behind. Whichever runs second would see the first one's table if the
# fixture handed out a shared database. Both keep a connection open, as a
# careless test would: dropping the database must work anyway.
def test_db_url_is_fresh_first(open_connections: list, db_url: str) -> None:
    _assert_empty_then_dirty(db_url, open_connections)


def test_db_url_is_fresh_second(open_connections: list, db_url: str) -> None:
    _assert_empty_then_dirty(db_url, open_connections)


def _assert_empty_then_dirty(db_url: str, open_connections: list) -> None:
    assert _table_names(db_url) == set()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE leftover (village varchar(50))")
        conn.execute(sa.text("INSERT INTO leftover VALUES (:v)"), {"v": VILLAGE})
    conn = engine.connect()
    open_connections.append(conn)
    assert conn.exec_driver_sql("SELECT village FROM leftover").scalar() == VILLAGE


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_db_url_is_its_own_database(db_url: str, postgres_url: str) -> None:
    mine, shared = sa.make_url(db_url), sa.make_url(postgres_url)
    assert mine.drivername == "postgresql+psycopg"
    assert mine.port == shared.port
    assert mine.database != shared.database


@pytest.mark.postgres
def test_server_is_removed_after_an_error(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # postgres_url only makes this test skip (or fail) like the others when
    # PostgreSQL is unavailable; it starts a second, private server.
    folders: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args, **kwargs):
        folder = real_mkdtemp(*args, **kwargs)
        folders.append(Path(folder))
        return folder

    monkeypatch.setattr(pgserver.tempfile, "mkdtemp", recording_mkdtemp)
    with pytest.raises(ZeroDivisionError):
        with pgserver.temporary_postgres() as url:
            port = sa.make_url(url).port
            assert _table_names(url) == set()
            1 / 0

    assert len(folders) == 1
    assert not folders[0].exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# The same for ``migrated_db_url``: a copy of the session's migrated
# database that is the test's own, so whichever test runs second must not see
# the first one's row.
def test_migrated_db_url_is_fresh_first(open_connections: list, migrated_db_url: str) -> None:
    _assert_migrated_then_dirty(migrated_db_url, open_connections)


def test_migrated_db_url_is_fresh_second(open_connections: list, migrated_db_url: str) -> None:
    _assert_migrated_then_dirty(migrated_db_url, open_connections)


def _assert_migrated_then_dirty(url: str, open_connections: list) -> None:
    from fangkong_lib import migrations, store

    assert {"villages", "returnees", migrations.VERSION_TABLE} <= _table_names(url)
    engine = store.get_engine(url)
    assert migrations.current(engine) == migrations.head()
    assert store.count_rows(engine, "villages") == 0
    store.write_ledger(engine, "villages", pd.DataFrame([dict(code="411625200201", name=VILLAGE)]), user="t")
    conn = engine.connect()
    open_connections.append(conn)
    assert store.count_rows(conn, "villages") == 1
