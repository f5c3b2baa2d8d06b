"""Users and roles in the store; every write signed by the login; on
PostgreSQL the database itself keeps a login to its scope (row-level
security keyed on each login's own database role)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from fangkong_lib import store
from fangkong_lib.actions import ActionError
from fangkong_lib.actions.base import transaction
from fangkong_lib.actions.users import (add_user, apply_row_security, current_user, ensure_db_role, list_users,
                                        update_user)

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


def test_a_login_server_gets_its_own_database_credentials_never_the_owners(tmp_path):
    from fangkong_lib.ui import hub

    owner = "postgresql+psycopg://fangkong:owner-secret@127.0.0.1/fangkong"
    with pytest.raises(RuntimeError, match="fangkong user reset clerk-a"):  # no role yet: no server
        hub.user_db_url(tmp_path, owner, "clerk-a")
    hub.set_role_secret(tmp_path, "clerk-a", "fangkong_clerk-a", "role-secret")
    url = sa.make_url(hub.user_db_url(tmp_path, owner, "clerk-a"))
    assert (url.username, url.password, url.database) == ("fangkong_clerk-a", "role-secret", "fangkong")
    assert (tmp_path / hub.ROLE_SECRETS).stat().st_mode & 0o777 == 0o600
    hub.set_role_secret(tmp_path, "clerk-a", None, None)  # disabled: forgotten
    with pytest.raises(RuntimeError):
        hub.user_db_url(tmp_path, owner, "clerk-a")
    assert hub.user_db_url(tmp_path, "sqlite:///x.sqlite", "clerk-a") == "sqlite:///x.sqlite"  # one PC


@pytest.mark.postgres
def test_each_login_has_its_own_database_role_kept_to_its_scope(postgres_url, monkeypatch):
    """On PostgreSQL the database itself keeps a login to its scope: its own
    role (what its server connects as) sees and writes only its rows, whatever
    settings code in its kernel changes; the owner (CLI, import) sees all."""
    server = sa.make_url(postgres_url)
    name = f"fangkong_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the store's owner as a county server has it: no superuser
        conn.exec_driver_sql(f'CREATE ROLE "{name}_owner" LOGIN CREATEROLE')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER "{name}_owner"')
    owner_url = server.set(database=name, username=f"{name}_owner").render_as_string(hide_password=False)
    logins: list[sa.engine.Engine] = []

    def login(user: str, password: str) -> sa.engine.Engine:
        role = store.find_user(owner, user)["db_role"]
        engine = sa.create_engine(server.set(database=name, username=role, password=password))
        logins.append(engine)
        return engine

    def villages(conn) -> list[str]:
        return sorted(r[0] for r in conn.execute(sa.text("SELECT village FROM returnees")))

    try:
        owner = _small_store(owner_url)
        add_user(owner, "clerk-a", "village", village="甲村")
        add_user(owner, "town", "township", township="城郊乡")
        add_user(owner, "look-b", "viewer", village="乙村")
        assert "returnees" in apply_row_security(owner)
        passwords = {u: ensure_db_role(owner, u) for u in ("clerk-a", "town", "look-b")}
        assert store.find_user(owner, "clerk-a")["db_role"] == f"{name}_clerk-a"
        assert apply_row_security(owner)  # again (the hub does at every start): idempotent, grants kept
        with admin.connect() as conn:  # the server keeps only a SCRAM verifier of the role's password
            assert conn.execute(sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"),
                                {"r": f"{name}_clerk-a"}).scalar().startswith("SCRAM-SHA-256$")
        with owner.connect() as conn:  # least privilege: no superuser, no BYPASSRLS, owns nothing
            flags = conn.execute(sa.text("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles"
                                         " WHERE rolname = :r"), {"r": f"{name}_clerk-a"}).one()
            assert tuple(flags) == (False, False, False)
            assert conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE tableowner = :r"),
                                {"r": f"{name}_clerk-a"}).scalar() == 0

        clerk = login("clerk-a", passwords["clerk-a"])
        with clerk.connect() as conn:
            assert villages(conn) == ["甲村"]
            # what code in the clerk's kernel could try: widen the app's settings
            conn.exec_driver_sql("SET fangkong.village = '乙村'")
            conn.exec_driver_sql("SET fangkong.role = 'county'")
            assert villages(conn) == ["甲村"]
            assert [r[0] for r in conn.execute(sa.text("SELECT name FROM users"))] == ["clerk-a"]  # own row only
            for statement in ("SELECT before FROM audit_log",  # other villages' people, as they were
                              "ALTER TABLE returnees DISABLE ROW LEVEL SECURITY",
                              "UPDATE users SET village = '乙村'", f'SET ROLE "{server.username}"'):
                with pytest.raises(sa.exc.DBAPIError):
                    with conn.begin_nested():
                        conn.exec_driver_sql(statement)
            conn.rollback()
        # The clerk's server writes through the app's own actions (lock rows, audit) ...
        monkeypatch.setenv("JUPYTERHUB_USER", "clerk-a")
        with transaction(clerk, "returnees", user="clerk-a") as tx:
            tx.upsert("returnees", {"name": "本村人", "id_number": "411625199001010055", "village": "甲村"})
        # ... but not another village's row, nor change one
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            with clerk.begin() as conn:
                conn.execute(store.TABLES["returnees"].insert().values(
                    name="外村人", id_number="411625199001010044", village="乙村"))
        with clerk.begin() as conn:
            assert conn.execute(sa.text("UPDATE returnees SET name = 'x' WHERE village = '乙村'")).rowcount == 0

        with login("town", passwords["town"]).connect() as conn:
            assert villages(conn) == ["乙村", "乙村", "甲村", "甲村"]
        with login("look-b", passwords["look-b"]).connect() as conn:
            assert villages(conn) == ["乙村", "乙村"]
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):  # a viewer writes nothing
                conn.exec_driver_sql("DELETE FROM returnees")

        # The owner keeps everything; with a login's scope set by the app it keeps to it
        monkeypatch.delenv("JUPYTERHUB_USER")
        with owner.connect() as conn:
            assert villages(conn) == ["乙村", "乙村", "甲村", "甲村"]
        monkeypatch.setenv("JUPYTERHUB_USER", "look-b")
        scoped = sa.create_engine(owner_url)
        logins.append(scoped)
        sa.event.listen(scoped, "connect", store._session_scope)
        with scoped.connect() as conn:
            assert villages(conn) == ["乙村", "乙村"]

        # Disabled: the role cannot log in, and a connection still open sees nothing
        still_open = clerk.connect()
        update_user(owner, "clerk-a", disabled=True)
        assert ensure_db_role(owner, "clerk-a", enabled=False) is None
        assert villages(still_open) == []
        still_open.close()
        clerk.dispose()
        with pytest.raises(sa.exc.OperationalError, match="not permitted to log in"):
            login("clerk-a", passwords["clerk-a"]).connect()
    finally:
        for engine in logins:
            engine.dispose()
        store.get_engine(owner_url).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for user in ("clerk-a", "town", "look-b", "owner"):
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}_{user}"')
        admin.dispose()
