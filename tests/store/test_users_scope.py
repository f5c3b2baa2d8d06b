"""Users and roles in the store; every write signed by the login; on
PostgreSQL the database itself keeps a login to its scope (row-level
security with the scope set per connection by the app)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from fangkong_lib import store
from fangkong_lib.actions import ActionError
from fangkong_lib.actions.base import transaction
from fangkong_lib.actions.users import add_user, apply_row_security, current_user, list_users, update_user

pytestmark = pytest.mark.store


def _small_store(url: str) -> sa.engine.Engine:
    engine = store.get_engine(url)
    store.init_db(engine)
    with engine.begin() as conn:
        conn.execute(store.TABLES["villages"].insert(), [{"name": "甲村"}, {"name": "乙村"}])
        conn.execute(store.TABLES["returnees"].insert(), [
            {"name": "张一", "id_number": "411625199001010011", "village": "甲村"},
            {"name": "李二", "id_number": "411625199001010022", "village": "乙村"},
            {"name": "王三", "id_number": "411625199001010033", "village": "乙村"},
        ])
    return engine


def test_users_are_checked_and_kept(tmp_path):
    engine = _small_store(f"sqlite:///{tmp_path}/u.sqlite")
    add_user(engine, "clerk-a", "village", village="甲村", full_name="赵会计")
    assert store.find_user(engine, "clerk-a")["township"] == "城郊乡"  # found through the village
    for args, kwargs, words in [
        (("x1", "mayor"), {}, "角色"),
        (("x2", "village"), {"village": "丙村"}, "不在村台账中"),
        (("x3", "village"), {}, "--village"),
        (("x4", "township"), {"township": "别的乡"}, "不在台账中"),
        (("x5", "county"), {"village": "甲村"}, "县级"),
        (("张三", "viewer"), {}, "登录名"),
        (("clerk-a", "viewer"), {}, "已存在"),
    ]:
        with pytest.raises(ActionError, match=words):
            add_user(engine, *args, **kwargs)
    update_user(engine, "clerk-a", disabled=True)
    assert [u["disabled"] for u in list_users(engine)] == [True]
    audit = store.load_audit(engine, "users")
    assert list(audit["action"]) == ["insert", "update"]


def test_writes_are_signed_by_the_login_and_a_viewer_writes_nothing(tmp_path, monkeypatch):
    engine = _small_store(f"sqlite:///{tmp_path}/w.sqlite")
    add_user(engine, "clerk-a", "village", village="甲村")
    add_user(engine, "look", "viewer")
    assert current_user().hub is False and current_user().role == "county"  # single PC
    with transaction(engine, "returnees", user="张三") as tx:  # single PC: the typed 操作人
        assert tx.user == "张三"
    monkeypatch.setenv("JUPYTERHUB_USER", "clerk-a")
    me = current_user(engine)
    assert (me.name, me.role, me.village, me.read_only) == ("clerk-a", "village", "甲村", False)
    assert me.scope == {"township": None, "village": "甲村"}
    with transaction(engine, "returnees", user="随便写的名字") as tx:
        assert tx.user == "clerk-a"
    monkeypatch.setenv("JUPYTERHUB_USER", "look")
    assert current_user(engine).read_only
    with pytest.raises(ActionError, match="只读"):
        with transaction(engine, "returnees", user="look"):
            pass
    monkeypatch.setenv("JUPYTERHUB_USER", "nobody")
    with pytest.raises(PermissionError):
        current_user(engine)


@pytest.mark.postgres
def test_row_level_security_keeps_a_login_to_its_scope(postgres_url, monkeypatch):
    server = sa.make_url(postgres_url)
    name = f"fangkong_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        conn.exec_driver_sql("DO $$ BEGIN CREATE ROLE fk_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    owner_url = server.set(database=name).render_as_string(hide_password=False)
    app_url = server.set(database=name, username="fk_app").render_as_string(hide_password=False)
    try:
        owner = _small_store(owner_url)
        add_user(owner, "clerk-a", "village", village="甲村")
        add_user(owner, "town", "township", township="城郊乡")
        add_user(owner, "look-b", "viewer", village="乙村")
        assert "returnees" in apply_row_security(owner)
        assert apply_row_security(owner)  # again: idempotent
        with owner.begin() as conn:
            conn.exec_driver_sql("GRANT ALL ON ALL TABLES IN SCHEMA public TO fk_app")
            conn.exec_driver_sql("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO fk_app")

        def seen(login: str | None) -> list[str]:
            if login is None:
                monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
            else:
                monkeypatch.setenv("JUPYTERHUB_USER", login)
            engine = sa.create_engine(app_url)
            sa.event.listen(engine, "connect", store._session_scope)
            try:
                with engine.connect() as conn:
                    return sorted(r[0] for r in conn.execute(sa.text("SELECT village FROM returnees")))
            finally:
                engine.dispose()

        assert seen(None) == ["乙村", "乙村", "甲村"]  # no login: the county server's own jobs
        assert seen("clerk-a") == ["甲村"]
        assert seen("town") == ["乙村", "乙村", "甲村"]
        assert seen("look-b") == ["乙村", "乙村"]
        assert seen("nobody") == []  # a login without a role sees nothing

        # The clerk's connection cannot write another village's row either.
        monkeypatch.setenv("JUPYTERHUB_USER", "clerk-a")
        engine = sa.create_engine(app_url)
        sa.event.listen(engine, "connect", store._session_scope)
        try:
            with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
                with engine.begin() as conn:
                    conn.execute(store.TABLES["returnees"].insert().values(
                        name="外村人", id_number="411625199001010044", village="乙村"))
            with engine.begin() as conn:  # its own village: fine
                conn.execute(store.TABLES["returnees"].insert().values(
                    name="本村人", id_number="411625199001010055", village="甲村"))
            with engine.begin() as conn:  # updating another village's rows touches none
                assert conn.execute(sa.text("UPDATE returnees SET name = 'x' WHERE village = '乙村'")).rowcount == 0
        finally:
            engine.dispose()
        store.get_engine(owner_url).dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
