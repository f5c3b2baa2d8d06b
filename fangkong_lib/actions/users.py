"""Users and roles of a county server: who may see and write what.

The ``users`` table of the store holds each login's role and scope (county,
township, village, viewer); the hub holds the password (``fangkong user``
writes both, see :mod:`fangkong_lib.ui.hub`). :func:`current_user` is the
ONE place a page, an export or an action asks who is working and what they
may see: in a hub session the logged-in user, in single-PC mode nobody in
particular with the whole county in view.

On PostgreSQL, :func:`apply_row_security` makes the database itself keep
each login to its scope (row-level security on every table with a
``village`` column); the app sets the session's scope per connection
(:func:`fangkong_lib.store._session_scope`), never the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import sqlalchemy as sa

from .. import store
from ..config import ROLE_LABELS, ROLES, TOWNSHIP_NAME, hub_user_name
from .base import ActionError, check_writer, engine_of

__all__ = ["SessionUser", "current_user", "add_user", "update_user", "list_users", "check_writer",
           "require_admin", "scope_choices", "apply_row_security", "scoped_tables", "NAME_PATTERN"]

#: Login names: what the hub puts in URLs (/user/<name>/); letters, digits, . _ -.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
#: Longest full name (姓名) of a login.
MAX_FULL_NAME = 32
#: What a person's name never holds: markup, control characters, and a
#: leading character a spreadsheet would read as a formula.
_BAD_FULL_NAME = re.compile(r"[<>&\"'`\x00-\x1f\x7f]|^[=+\-@|]")


@dataclass(frozen=True)
class SessionUser:
    """Who is working. ``name`` None: single-PC mode (the 操作人 field names
    the operator). ``township``/``village``: the scope ("" = not limited)."""

    name: str | None
    role: str
    township: str = ""
    village: str = ""
    full_name: str = ""

    @property
    def hub(self) -> bool:
        """Logged in through the hub: writes are signed with ``name``."""
        return self.name is not None

    @property
    def read_only(self) -> bool:
        return self.role == "viewer"

    @property
    def scope(self) -> dict[str, str | None]:
        """Keyword arguments for ``Dataset.load(db, **user.scope)``: the
        village, else the township, else nothing (the whole county)."""
        if self.village:
            return {"township": None, "village": self.village}
        return {"township": self.township or None, "village": None}

    @property
    def label(self) -> str:
        return f"{self.full_name or self.name}（{ROLE_LABELS.get(self.role, self.role)}）"


SINGLE_PC = SessionUser(None, "county")


def current_user(db=None) -> SessionUser:
    """The user of this server: in a hub session the login (``JUPYTERHUB_USER``)
    with the role and scope of the ``users`` table; otherwise single-PC mode.

    A hub login without a row in ``users``, or disabled, raises
    PermissionError: it must not see anything (the hub refuses such logins;
    this is the second lock)."""
    name = hub_user_name()
    if name is None:
        return SINGLE_PC
    row = store.find_user(store.get_engine(db) if db is None or isinstance(db, str) else engine_of(db), name)
    if row is None or row["disabled"]:
        raise PermissionError(f"账号 {name} 未登记或已停用，请联系管理员")
    return SessionUser(name, row["role"], row["township"] or "", row["village"] or "", row["full_name"] or "")


# -- The users table -------------------------------------------------------------------


def _townships(conn) -> set[str]:
    villages = store.TABLES["villages"]
    if "township" in villages.c:
        found = {r[0] for r in conn.execute(sa.select(sa.distinct(villages.c.township))) if r[0]}
        if found:
            return found
    return {TOWNSHIP_NAME}


def _village_township(conn, village: str) -> str | None:
    """The township of ``village`` (None: no such village)."""
    villages = store.TABLES["villages"]
    columns = [villages.c.name] + ([villages.c.township] if "township" in villages.c else [])
    row = conn.execute(sa.select(*columns).where(villages.c.name == village)).first()
    if row is None:
        return None
    return (row[1] if len(row) > 1 else None) or TOWNSHIP_NAME


def require_admin(bind, name: str | None) -> dict:
    """The ``users`` row of ``name`` when it is an enabled county login (who
    may manage accounts from the admin page); ActionError for anyone else."""
    row = store.find_user(bind, name)
    if row is None or row["disabled"] or row["role"] != "county":
        raise ActionError.about("user", "操作人", "只有县级账号登录后才能管理账号", name or "")
    return row


def scope_choices(db) -> tuple[list[str], list[tuple[str, str]]]:
    """(townships, [(village, its township)]) a login may be kept to, from
    the villages ledger (a one-township database: its township)."""
    engine = engine_of(db)
    villages = store.TABLES["villages"]
    with engine.connect() as conn:
        townships = sorted(_townships(conn))
        rows = conn.execute(sa.select(villages.c.name).order_by(villages.c.name)).scalars().all()
        return townships, [(v, _village_township(conn, v) or "") for v in rows if v]


def _checked(conn, name: str, role: str, township: str, village: str, full_name: str = "") -> tuple[str, str]:
    problems = []
    if len(full_name) > MAX_FULL_NAME or _BAD_FULL_NAME.search(full_name):
        problems.append(f"姓名无效：至多 {MAX_FULL_NAME} 个字，不能含 < > & 引号、控制字符，不能以 = + - @ | 开头")
    if not NAME_PATTERN.match(name or ""):
        problems.append(f"登录名「{name}」无效：2–32 个小写字母、数字或 . _ -，以字母或数字开头")
    if role not in ROLES:
        problems.append(f"角色「{role}」无效：只能是 {' / '.join(ROLES)}")
    if role == "village" and not village:
        problems.append("村级账号须指定 --village")
    if role == "township" and not township:
        problems.append("乡镇账号须指定 --township")
    if role == "county" and (township or village):
        problems.append("县级账号不限乡镇和村，不能指定 --township 或 --village")
    if village:
        home = _village_township(conn, village)
        if home is None:
            problems.append(f"村「{village}」不在村台账中")
        elif township and township != home:
            problems.append(f"村「{village}」属于{home}，不属于{township}")
        else:
            township = home
    elif township and township not in _townships(conn):
        problems.append(f"乡镇「{township}」不在台账中")
    if problems:
        raise ActionError("；".join(problems))
    return township, village


def add_user(db, name: str, role: str, *, township: str = "", village: str = "", full_name: str = "",
             by: str = "system", admin: bool = False, then: Callable[[], None] | None = None) -> dict:
    """Register login ``name`` with its role and scope (checked against the
    villages ledger), audited; ActionError when it exists or is invalid.

    ``admin``: ``by`` must be an enabled county login (the admin page; the
    command line is the server's own account). ``then`` runs inside the
    transaction after the row is written (the hub's login): if it raises,
    nothing is written."""
    engine = engine_of(db)
    store.users_table.create(engine, checkfirst=True)
    now = datetime.now().replace(microsecond=0)
    full_name = (full_name or "").strip()
    with engine.begin() as conn:
        if admin:
            require_admin(conn, by)
        township, village = _checked(conn, name, role, township or "", village or "", full_name)
        if store.find_user(conn, name) is not None:
            raise ActionError(f"账号 {name} 已存在（改密码用 fangkong user reset）")
        values = {"name": name, "full_name": full_name or None, "role": role, "township": township or None,
                  "village": village or None, "disabled": False, "created": now, "updated": now}
        conn.execute(store.users_table.insert().values(**values))
        store.audit(conn, user=by, ledger="users", action="insert", row_key={"name": name},
                    after={k: v for k, v in values.items() if k not in ("created", "updated")})
        if then is not None:
            then()
    return values


def update_user(db, name: str, *, by: str = "system", admin: bool = False,
                then: Callable[[], None] | None = None, **values) -> dict:
    """Change a user's row (``disabled=True`` to disable), audited;
    ``admin`` and ``then`` as for :func:`add_user`."""
    engine = engine_of(db)
    with engine.begin() as conn:
        if admin:
            require_admin(conn, by)
        before = store.find_user(conn, name)
        if before is None:
            raise ActionError(f"没有账号 {name}（fangkong user list 列出全部账号）")
        values["updated"] = datetime.now().replace(microsecond=0)
        conn.execute(store.users_table.update().where(store.users_table.c.name == name).values(**values))
        store.audit(conn, user=by, ledger="users", action="update", row_key={"name": name},
                    before={k: before[k] for k in values if k != "updated"},
                    after={k: v for k, v in values.items() if k != "updated"})
        if then is not None:
            then()
    return {**before, **values}


def list_users(db) -> list[dict]:
    """Every user, by name."""
    engine = engine_of(db)
    if not sa.inspect(engine).has_table("users"):
        return []
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(store.users_table).order_by(store.users_table.c.name))
                .mappings()]


# -- PostgreSQL row-level security ----------------------------------------------------


def scoped_tables(engine) -> list[str]:
    """The ledgers' tables (every one carries ``owner_township``), kept to a
    scope; ``users`` and ``villages`` (the ledger that defines scopes) are not."""
    inspector = sa.inspect(engine)
    return sorted(t for t in inspector.get_table_names()
                  if t not in ("users", "villages") and any(c["name"] == store.OWNER for c in inspector.get_columns(t)))


def _policy_condition(engine, table: str) -> str:
    """The row-level security condition of ``table``: a village login sees
    its village's rows (and its township's rows that name no village), a
    township login its township's rows (``owner_township``)."""
    setting = "coalesce(current_setting('fangkong.{0}', true), '')".format
    columns = {c["name"] for c in sa.inspect(engine).get_columns(table)}
    village_column = store.VILLAGE_COLUMN.get(table, "village")
    own_township = f"(SELECT v.{store.OWNER} FROM villages v WHERE v.name = {setting('village')})"
    if village_column in columns:
        in_village = f"{village_column} = {setting('village')}"
    else:
        in_village = f"{store.OWNER} = {own_township}"
    return (
        "CASE"
        f" WHEN {setting('role')} IN ('', 'county') THEN true"
        f" WHEN {setting('role')} = 'none' THEN false"
        f" WHEN {setting('village')} <> '' THEN {in_village}"
        f" WHEN {setting('township')} <> '' THEN {store.OWNER} = {setting('township')}"
        " ELSE true END"
    )


def apply_row_security(db) -> list[str]:
    """Row-level security on PostgreSQL: every table with a ``village``
    column shows (and takes) only the rows of the session's scope; FORCE so
    it holds for the tables' owner too (a superuser still bypasses it: the
    app must not connect as one). Idempotent; returns the tables. No-op on
    SQLite (a single PC has one user)."""
    engine = engine_of(db)
    if engine.dialect.name != "postgresql":
        return []
    tables = scoped_tables(engine)
    with engine.begin() as conn:
        for table in tables:
            condition = _policy_condition(engine, table)
            conn.execute(sa.text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
            conn.execute(sa.text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))
            conn.execute(sa.text(f'DROP POLICY IF EXISTS fangkong_scope ON "{table}"'))
            conn.execute(sa.text(f'CREATE POLICY fangkong_scope ON "{table}" FOR ALL'
                                 f" USING ({condition}) WITH CHECK ({condition})"))
    return tables
