"""用户管理 (users admin) in-process: a county login on the hub adds, lists,
disables, enables and resets accounts through the same functions as
``fangkong user`` (the store's users row and the hub's login together,
audited with the login); anyone else gets one line and no forms, and the
actions refuse them whatever the browser sends."""

from __future__ import annotations

import bcrypt
import pytest
import sqlalchemy as sa
import traitlets

from fangkong_lib import store
from fangkong_lib.actions import ActionError
from fangkong_lib.ui import hub
from fangkong_lib.ui.app import App
from fangkong_lib.ui.users import UsersPage

PASSWORD = "Kx7-river-lamp"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A small store with two villages and four logins, and the hub's state
    folder; the session is the county login ``boss``."""
    url = f"sqlite:///{tmp_path}/users.sqlite"
    engine = store.get_engine(url)
    store.init_db(engine)
    with engine.begin() as conn:
        conn.execute(store.TABLES["villages"].insert(), [{"name": "甲村"}, {"name": "乙村"}])
    state = tmp_path / "hub"
    for name, role, scope in [("boss", "county", {}), ("town", "township", {"township": "城郊乡"}),
                              ("clerk", "village", {"village": "甲村"}), ("look", "viewer", {})]:
        hub.add_login(engine, state, name, role, password=PASSWORD, by="setup", **scope)
    monkeypatch.setenv("FANGKONG_HUB_DIR", str(state))
    monkeypatch.setenv("JUPYTERHUB_USER", "boss")
    return engine, state, url


def hub_login(state, name) -> tuple[bytes, bool] | None:
    engine = sa.create_engine(hub.hub_db_url(state))
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT password, is_authorized FROM users_info WHERE username = :n"),
                               {"n": name}).first()
    finally:
        engine.dispose()
    return None if row is None else (bytes(row[0]), bool(row[1]))


def user_row(engine, name):
    return store.find_user(engine, name)


def fill(m, **values):
    for key, value in values.items():
        setattr(m, key, value)


def test_a_county_login_adds_lists_disables_enables_and_resets(server):
    engine, state, url = server
    page = UsersPage(db=url)
    m = page.model
    assert m.allowed and m.kpis == {"users": 4, "enabled": 4, "disabled": 0}
    for text in ("boss", "clerk", "甲村", "县级", "村级", "只读", "启用", "创建时间"):
        assert text in m.table_html, text
    assert "$2b$" not in m.table_html and "password" not in m.table_html  # no hash anywhere
    assert set(m.users[0]) == {"name", "full_name", "role", "township", "village", "disabled", "created", "updated"}
    assert page._add in _descendants(page) and page._target in _descendants(page)

    # add: the village login gets its township from the villages ledger
    fill(m, new_name="clerk-b", new_full_name="钱会计", new_role="village", new_village="乙村",
         new_password=PASSWORD, new_password2=PASSWORD)
    assert m.add(), m.status
    assert not m.error and "已添加账号 clerk-b" in m.status and m.kpis["users"] == 5
    row = user_row(engine, "clerk-b")
    assert (row["role"], row["township"], row["village"], row["full_name"]) == ("village", "城郊乡", "乙村", "钱会计")
    stored, authorized = hub_login(state, "clerk-b")
    assert authorized and bcrypt.checkpw(PASSWORD.encode(), stored)
    assert m.new_password == m.new_password2 == "" and m.new_name == ""
    assert "钱会计" in m.table_html and "clerk-b" in [v for _, v in page._target.options]

    # disable: the users row and the hub's login both
    m.target = "clerk-b"
    assert m.disable(), m.status
    assert user_row(engine, "clerk-b")["disabled"] and hub_login(state, "clerk-b")[1] is False
    assert m.kpis["disabled"] == 1 and "已停用" in m.status
    # enable: the same password again
    assert m.enable(), m.status
    assert not user_row(engine, "clerk-b")["disabled"] and hub_login(state, "clerk-b") == (stored, True)
    # reset: a new password, typed twice
    fill(m, target="clerk-b", reset_password="Quiet-harbor-92", reset_password2="Quiet-harbor-92")
    assert m.reset(), m.status
    new, authorized = hub_login(state, "clerk-b")
    assert authorized and bcrypt.checkpw(b"Quiet-harbor-92", new) and not bcrypt.checkpw(PASSWORD.encode(), new)
    assert m.reset_password == m.reset_password2 == ""

    # every change signed by the logged-in admin
    audit = store.load_audit(engine, "users")
    mine = audit[audit["user"] == "boss"]
    assert list(mine["action"]) == ["insert", "update", "update", "update"]
    assert "Quiet" not in audit.to_string() and "$2b$" not in audit.to_string()


def test_mistakes_are_refused_in_chinese_and_nothing_is_written(server):
    engine, state, url = server
    m = UsersPage(db=url).model
    before = len(store.load_audit(engine, "users"))
    cases = [
        (dict(new_name="newbie", new_role="viewer", new_password=PASSWORD, new_password2=PASSWORD + "x"), "不一致"),
        (dict(new_name="newbie", new_role="viewer", new_password="short", new_password2="short"), "密码太短"),
        (dict(new_name="newbie", new_role="viewer"), "请设置密码"),
        (dict(new_name="newbie", new_role="village", new_password=PASSWORD, new_password2=PASSWORD), "村级账号"),
        (dict(new_name="boss", new_role="viewer", new_password=PASSWORD, new_password2=PASSWORD), "已存在"),
        (dict(new_name="<b>x</b>", new_role="viewer", new_password=PASSWORD, new_password2=PASSWORD), "登录名"),
        (dict(new_name="=cmd|' /C calc'!A0", new_role="viewer", new_password=PASSWORD, new_password2=PASSWORD),
         "登录名"),
        (dict(new_name="newbie", new_full_name="=cmd|' /C calc'!A0", new_role="viewer", new_password=PASSWORD,
              new_password2=PASSWORD), "姓名无效"),
        (dict(new_name="newbie", new_full_name="<img src=x onerror=alert(1)>", new_role="viewer",
              new_password=PASSWORD, new_password2=PASSWORD), "姓名无效"),
    ]
    for values, words in cases:
        fill(m, new_name="", new_full_name="", new_role="viewer", new_township="", new_village="",
             new_password="", new_password2="")
        fill(m, **values)
        assert not m.add(), values
        assert m.error and words in m.status, (values, m.status)
    assert user_row(engine, "newbie") is None and hub_login(state, "newbie") is None
    assert len(store.load_audit(engine, "users")) == before
    assert "<img" not in m.table_html and "<b>x" not in m.table_html
    # disabling oneself, resetting without a password, choosing nobody
    m.target = "boss"
    assert not m.disable() and "自己" in m.status and not user_row(engine, "boss")["disabled"]
    fill(m, target="clerk", reset_password="", reset_password2="")
    assert not m.reset() and "新密码" in m.status
    m.target = ""
    assert not m.enable() and "选择账号" in m.status
    # what the browser cannot choose
    for trait, value in [("new_role", "admin"), ("new_village", "<script>"), ("new_township", "别的乡"),
                         ("target", "nobody")]:
        with pytest.raises(traitlets.TraitError):
            setattr(m, trait, value)
    assert len(store.load_audit(engine, "users")) == before


def test_a_full_name_with_markup_from_the_command_line_is_shown_escaped(server, monkeypatch):
    engine, state, url = server
    with engine.begin() as conn:  # written before names were checked, or by hand in the database
        conn.execute(store.users_table.update().where(store.users_table.c.name == "look")
                     .values(full_name="<script>alert(1)</script>"))
    m = UsersPage(db=url).model
    assert "<script>alert" not in m.table_html and "&lt;script&gt;alert(1)&lt;/script&gt;" in m.table_html


@pytest.mark.parametrize("login", ["town", "clerk", "look"])
def test_other_logins_get_one_line_and_the_actions_refuse_them(server, monkeypatch, login):
    engine, state, url = server
    monkeypatch.setenv("JUPYTERHUB_USER", login)
    page = UsersPage(db=url)
    m = page.model
    assert not m.allowed and "只对县级账号开放" in m.status and m.table_html == "" and m.kpis == {}
    assert page.forms() == [] and not any(isinstance(c, _widgets().Button) for c in _descendants(page)
                                          if "fk-kpi-list-close" not in c._dom_classes)
    # whatever the browser sends, the model refuses
    fill(m, new_name="sneaky", new_role="county", new_password=PASSWORD, new_password2=PASSWORD)
    assert not m.add() and m.error and user_row(engine, "sneaky") is None
    # and so do the functions themselves (a non-county caller)
    with pytest.raises(ActionError, match="县级账号"):
        hub.add_login(engine, state, "sneaky", "county", password=PASSWORD, by=login, admin=True)
    for change in (hub.disable_login, hub.enable_login):
        with pytest.raises(ActionError, match="县级账号"):
            change(engine, state, "boss", by=login, admin=True)
    with pytest.raises(ActionError, match="县级账号"):
        hub.reset_login(engine, state, "boss", "Another-pass-77", by=login, admin=True)
    assert user_row(engine, "sneaky") is None and hub_login(state, "sneaky") is None
    assert not user_row(engine, "boss")["disabled"]
    # the app's navigation has no 用户管理 for them; a county login's has
    assert "users" not in App(start="overview", db=url)._nav_buttons


def test_a_disabled_county_login_is_refused_too(server):
    engine, state, url = server
    hub.add_login(engine, state, "old-boss", "county", password=PASSWORD, by="setup")
    hub.disable_login(engine, state, "old-boss", by="setup")
    with pytest.raises(ActionError, match="县级账号"):
        hub.enable_login(engine, state, "old-boss", by="old-boss", admin=True)


def test_single_pc_has_no_logins_so_no_forms_and_no_nav_entry(server, monkeypatch):
    engine, state, url = server
    monkeypatch.delenv("JUPYTERHUB_USER")
    page = UsersPage(db=url)
    assert not page.model.allowed and "单机版没有登录账号" in page.model.status and page.forms() == []
    app = App(start="users", db=url)
    assert "users" not in app._nav_buttons and app.current == "users"
    monkeypatch.setenv("JUPYTERHUB_USER", "boss")
    county = App(start="users", db=url)
    assert "users" in county._nav_buttons and county.pages["users"].model.allowed
    assert "<small>用户管理</small>" in county._title.value


def _widgets():
    import ipywidgets

    return ipywidgets


def _descendants(widget):
    for child in getattr(widget, "children", ()):
        yield child
        yield from _descendants(child)


def test_a_sign_up_waits_on_the_page_and_is_approved_with_a_role_and_no_password(server):
    engine, state, url = server
    hub.set_hub_login(state, "newbie", password="Signed-up-44", authorized=False)  # as /hub/signup does
    page = UsersPage(db=url)
    m = page.model
    assert m.pending == ["newbie"] and "newbie" in page._pending.value and "待批准" in page._pending.value
    # a name that did not sign up still needs a password
    fill(m, new_name="nobody-x", new_role="viewer")
    assert not m.add() and "请设置密码" in m.status
    fill(m, new_name="newbie", new_role="village", new_village="甲村")
    assert m.add(), m.status
    assert "已批准注册 newbie" in m.status and m.pending == [] and page._pending.value == ""
    stored, authorized = hub_login(state, "newbie")
    assert authorized and bcrypt.checkpw(b"Signed-up-44", stored)  # the password chosen at sign-up
    assert user_row(engine, "newbie")["village"] == "甲村"
