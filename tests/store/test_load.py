"""The load test, short: simulated users at once on PostgreSQL lose nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.load import load_test  # noqa: E402

from fangkong_lib.demo import build_demo


@pytest.mark.postgres
def test_twenty_users_at_once_lose_no_write(postgres_url: str, tmp_path: Path) -> None:
    import sqlalchemy as sa

    server = sa.make_url(postgres_url)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql('CREATE DATABASE "fangkong_load"')
    url = server.set(database="fangkong_load").render_as_string(hide_password=False)
    try:
        build_demo(url)
        out = load_test(url, users=20, seconds=20, threads=True, folder=tmp_path)
    finally:
        from fangkong_lib import store

        store.get_engine(url).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS "fangkong_load" WITH (FORCE)')
        admin.dispose()
    assert out["errors"] == []
    assert out["lost"] == []
    imported = out["imported"]
    assert imported["read"] == 300 and imported["rejected"] == len(out["import_rejected"]) < 300
    assert out["filters"] > 0 and out["writes"] > 0  # work was done (how much depends on the machine)
