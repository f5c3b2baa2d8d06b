"""Users and roles of a county server: who may see and write what.

The ``users`` table of the store holds each login's role and scope (county,
township, village, viewer); the hub holds the password (``fangkong user``
writes both, see :mod:`fangkong_lib.ui.hub`). :func:`current_user` is the
ONE place a page, an export or an action asks who is working and what they
may see: in a hub session the logged-in user, in single-PC mode nobody in
particular with the whole county in view.

On PostgreSQL, :func:`apply_row_security` makes the database itself keep
each login to its scope (row-level security on every ledger table): a
login's server connects as the login's own role (:func:`ensure_db_role`),
and the policies read that role's scope from its ``users`` row, which no
session setting can change. The owner's connections (CLI, import, demo,
migrations) keep to the scope the app sets per connection
(:func:`fangkong_lib.store._session_scope`), everything when none is set.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import sqlalchemy as sa

from .. import store
from ..config import ROLE_LABELS, ROLES, TOWNSHIP_NAME, hub_user_name
from .base import ActionError, check_writer, engine_of

__all__ = ["SessionUser", "current_user", "add_user", "update_user", "list_users", "check_writer",
           "require_admin", "scope_choices", "apply_row_security", "scoped_tables", "ensure_db_role", "db_role_name",
           "NAME_PATTERN"]

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


def _guc_condition(engine, table: str) -> str:
    """The scope of the OWNER's connections (the app's own: CLI, import,
    demo, a hub without per-login roles): the settings ``fangkong.role`` /
    ``fangkong.township`` / ``fangkong.village`` the app sets per connection
    (:func:`fangkong_lib.store._session_scope`); none set: everything."""
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


def _login_condition(engine, table: str) -> str:
    """The scope of a login's OWN database role (``users.db_role``): read
    from the ``users`` row of ``current_user``, which no setting of the
    session can change. A role without an enabled ``users`` row sees nothing."""
    columns = {c["name"] for c in sa.inspect(engine).get_columns(table)}
    village_column = store.VILLAGE_COLUMN.get(table, "village")
    row = f'"{table}"'
    if village_column in columns:
        in_village = f"{row}.{village_column} = u.village"
    else:  # a table naming no village: the village's township (users.township)
        in_village = f"{row}.{store.OWNER} = u.township"
    return (
        "EXISTS (SELECT 1 FROM users u WHERE u.db_role = current_user AND NOT u.disabled AND CASE"
        " WHEN u.role = 'county' THEN true"
        f" WHEN coalesce(u.village, '') <> '' THEN {in_village}"
        f" WHEN coalesce(u.township, '') <> '' THEN {row}.{store.OWNER} = u.township"
        " ELSE u.role = 'viewer' END)"
    )


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _policy_condition(engine, table: str, owner: str) -> str:
    """The row-level security condition of ``table``: the tables' owner
    (``owner``) is kept to the scope the app sets on its connection; every
    other role to the scope of its own login."""
    return (f"CASE WHEN current_user = {_quoted(owner)} THEN ({_guc_condition(engine, table)})"
            f" ELSE {_login_condition(engine, table)} END")


def apply_row_security(db) -> list[str]:
    """Row-level security on PostgreSQL: every ledger table shows (and
    takes) only the rows of the connection's scope; FORCE so it holds for
    the tables' owner too (a superuser still bypasses it: the app must not
    connect as one). A login's own role (:func:`ensure_db_role`) sees only
    its own ``users`` row. The logins' roles get their grants again (a
    migration may have added tables). Idempotent; returns the tables. No-op
    on SQLite (a single PC has one user)."""
    engine = engine_of(db)
    if engine.dialect.name != "postgresql":
        return []
    tables = scoped_tables(engine)
    with engine.begin() as conn:
        owners = dict(conn.execute(sa.text("SELECT tablename, tableowner FROM pg_tables"
                                           " WHERE schemaname = current_schema()")).all())
        for table in tables:
            owner = owners[table]  # the table's owner, whoever applies this
            condition = _policy_condition(engine, table, owner)
            conn.execute(sa.text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
            conn.execute(sa.text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))
            conn.execute(sa.text(f'DROP POLICY IF EXISTS fangkong_scope ON "{table}"'))
            conn.execute(sa.text(f'CREATE POLICY fangkong_scope ON "{table}" FOR ALL'
                                 f" USING ({condition}) WITH CHECK ({condition})"))
        # users: the owner (not forced) sees every row, a login's role its own
        conn.execute(sa.text("ALTER TABLE users ENABLE ROW LEVEL SECURITY"))
        conn.execute(sa.text("DROP POLICY IF EXISTS fangkong_own_row ON users"))
        conn.execute(sa.text("CREATE POLICY fangkong_own_row ON users FOR SELECT USING (db_role = current_user)"))
        for user in conn.execute(sa.select(store.users_table).where(store.users_table.c.db_role.is_not(None))).mappings():
            _grant(conn, user["db_role"], user["role"], tables)
    return tables


# -- PostgreSQL: one database role per login ---------------------------------------------

#: Tables every login's role reads whole (besides its scoped ledger rows).
_READ = ("villages", "townships", "meta", "alembic_version")
#: audit_log columns a login's role may read (what changed since, never before/after).
_AUDIT_COLUMNS = "id, ts, ledger, action"


def db_role_name(engine, name: str) -> str:
    """The database role of login ``name``: ``<database>_<name>`` (roles are
    shared by every database of the server; the database's name keeps two
    stores on one server apart)."""
    role = f"{engine.url.database}_{name}"
    if len(role.encode()) > 63:
        raise ActionError(f"数据库名与登录名合起来太长（{role}）：PostgreSQL 角色名最多 63 字节")
    return role


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _grant(conn, role: str, user_role: str, tables: list[str]) -> None:
    """The least a login's role needs: read its scope of the ledgers and the
    tables every page reads, write (when not a viewer) its scope of the
    ledgers, the audit log and the writers' lock rows of ``meta``; never
    ownership, never a table's structure, never the users table's other rows."""
    q = _ident(role)
    existing = set(sa.inspect(conn).get_table_names())
    conn.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q}"))
    conn.execute(sa.text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q}"))
    database = conn.exec_driver_sql("SELECT current_database()").scalar()
    conn.execute(sa.text(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {q}"))
    conn.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {q}"))
    whole = [t for t in _READ if t in existing]
    writes = user_role != "viewer"
    for table in tables + whole + ["users"]:
        conn.execute(sa.text(f'GRANT SELECT ON "{table}" TO {q}'))
    if writes:
        for table in tables + (["villages", "townships"] if user_role == "county" else []):
            if table in existing:
                conn.execute(sa.text(f'GRANT INSERT, UPDATE, DELETE ON "{table}" TO {q}'))
        conn.execute(sa.text(f"GRANT INSERT, UPDATE, DELETE ON meta TO {q}"))
        conn.execute(sa.text(f"GRANT INSERT ON audit_log TO {q}"))
        conn.execute(sa.text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {q}"))
    if user_role == "county":
        conn.execute(sa.text(f"GRANT SELECT ON audit_log TO {q}"))
    else:
        conn.execute(sa.text(f"GRANT SELECT ({_AUDIT_COLUMNS}) ON audit_log TO {q}"))


def _password_clause(conn, role: str, password: str) -> str:
    """``PASSWORD '<scram verifier>'``: the password is hashed here (libpq),
    so the server and its statement log never see it."""
    raw = conn.connection.dbapi_connection
    verifier = raw.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    return f"PASSWORD {_quoted(verifier)}"


def ensure_db_role(db, name: str, *, enabled: bool = True, new_password: bool = True) -> str | None:
    """Create or update login ``name``'s own PostgreSQL role (LOGIN when
    ``enabled``, NOLOGIN otherwise; NOSUPERUSER NOBYPASSRLS, owning
    nothing) with the grants of its ``users`` role, and record it in
    ``users.db_role``. Returns the new random password (for the hub's
    secrets file), or None when none was set; None on SQLite too. The
    connection's role needs CREATEROLE."""
    engine = engine_of(db)
    if engine.dialect.name != "postgresql":
        return None
    role = db_role_name(engine, name)
    password = secrets.token_urlsafe(24) if enabled and new_password else None
    apply_row_security(engine)  # never a role on a table without its policy
    with engine.begin() as conn:
        user = store.find_user(conn, name)
        if user is None:
            raise ActionError(f"没有账号 {name}（fangkong user list 列出全部账号）")
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        login = "LOGIN" if enabled and not user["disabled"] else "NOLOGIN"
        # made without any privilege of its own; altered: only its login and password
        options = login if exists else f"{login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
        if password is not None:
            options += " " + _password_clause(conn, role, password)
        conn.exec_driver_sql(f"{'ALTER' if exists else 'CREATE'} ROLE {_ident(role)} {options}")
        conn.execute(store.users_table.update().where(store.users_table.c.name == name).values(db_role=role))
        _grant(conn, role, user["role"], scoped_tables(conn))
    return password
