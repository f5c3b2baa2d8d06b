"""The store: SQLAlchemy 2 tables derived from the ledger definitions.

An embedded SQLite file by default (WAL mode, so several Voilà kernels can read
while one writes); any SQLAlchemy URL, PostgreSQL included, otherwise. The same
code runs on both. Every change is audited: who, when, before, after.
"""

from __future__ import annotations

import contextvars
import json
import math
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import migrations
from .config import DEMO_TODAY, TOWNSHIP_NAME, database_url
from .ledgers import LEDGERS, Field, Ledger, get_ledger

_SQL_TYPES = {
    "text": sa.Text,
    "int": sa.Integer,
    "float": sa.Float,
    "date": sa.Date,
    "datetime": sa.DateTime,
    "bool": sa.Boolean,
    "id_number": lambda: sa.String(32),
    "phone": lambda: sa.String(32),
    "list": sa.Text,
    "geometry": sa.Text,
}

# -- Whose row: the township of a written row ------------------------------

#: The township the current writer works for, when a row names no village
#: (a township-level command unit, a donation): set by :func:`writing_for`.
_WRITER_TOWNSHIP: contextvars.ContextVar[str | None] = contextvars.ContextVar("writer_township", default=None)
_VILLAGE_TOWNSHIPS: dict[str, dict[str, str]] = {}
_HOME_TOWNSHIP: dict[str, str] = {}
_OWNER_LOCK = threading.Lock()


@contextmanager
def writing_for(township: str | None):
    """Rows written inside this block that name no village belong to ``township``."""
    token = _WRITER_TOWNSHIP.set(township)
    try:
        yield
    finally:
        _WRITER_TOWNSHIP.reset(token)


def forget_villages(bind=None) -> None:
    """Drop the cached village → township map (after villages are written)."""
    with _OWNER_LOCK:
        _MISSES.clear()
        if bind is None:
            _VILLAGE_TOWNSHIPS.clear()
            _HOME_TOWNSHIP.clear()
        else:
            url = str(bind.engine.url if hasattr(bind, "engine") else bind.url)
            _VILLAGE_TOWNSHIPS.pop(url, None)
            _HOME_TOWNSHIP.pop(url, None)


def _village_townships(conn, refresh: bool = False) -> dict[str, str]:
    url = str(conn.engine.url)
    with _OWNER_LOCK:
        cached = _VILLAGE_TOWNSHIPS.get(url)
    if cached is not None and not refresh:
        return cached
    villages = TABLES["villages"]
    rows = conn.execute(sa.select(villages.c.name, villages.c.township)).all()
    mapping = {name: township for name, township in rows if name and township}
    with _OWNER_LOCK:
        _VILLAGE_TOWNSHIPS[url] = mapping
    return mapping


def _home_township(conn) -> str:
    """The township of a one-township database: its ``township`` meta, else
    its only villages' township, else the configured township."""
    url = str(conn.engine.url)
    if url not in _HOME_TOWNSHIP:
        value = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "township")).scalar()
        if not value:
            townships = set(_village_townships(conn).values())
            value = townships.pop() if len(townships) == 1 else TOWNSHIP_NAME
        _HOME_TOWNSHIP[url] = value
    return _HOME_TOWNSHIP[url]


def _owner_default(key: str):
    """The column default of :data:`OWNER` for ledger ``key``."""
    def default(context):
        return _owner_township(context, key)
    return default


def _owner_township(context, key: str) -> str | None:
    """The township of the row's village (a village row: its own 乡镇), else
    the writer's township, else the database's one township."""
    params = context.get_current_parameters()
    if key == "villages" and params.get("township"):
        return params["township"]
    if key == "townships" and params.get("name"):
        return params["name"]
    village = params.get("name") if key == "villages" else params.get(VILLAGE_COLUMN.get(key, "village"))
    conn = context.connection
    if village and key != "villages":
        owner = _village_townships(conn).get(village)
        if owner is None and village not in _MISSES.setdefault(str(conn.engine.url), set()):
            owner = _village_townships(conn, refresh=True).get(village)
            if owner is None:
                _MISSES[str(conn.engine.url)].add(village)
        if owner:
            return owner
    return _WRITER_TOWNSHIP.get() or _home_township(conn)


_MISSES: dict[str, set] = {}


def owners_for(conn, key: str, villages: list) -> list[str]:
    """:data:`OWNER` for many rows of ledger ``key`` naming ``villages`` (the
    same answer as the column default, for bulk writes that bypass it)."""
    mapping = _village_townships(conn)
    if any(v and v not in mapping for v in villages):
        mapping = _village_townships(conn, refresh=True)
    fallback = _WRITER_TOWNSHIP.get() or _home_township(conn)
    return [mapping.get(v, fallback) if v else fallback for v in villages]

#: The column naming a row's village, where it is not ``village``.
VILLAGE_COLUMN = {"villages": "name", "checkpoint_logs": "destination"}
#: Ledgers whose rows belong to a row of another ledger: (own column,
#: parent ledger, parent column). A village sees the events of its problems.
PARENTS = {
    "problem_events": ("problem_no", "problems", "problem_no"),
    "task_events": ("task_no", "tasks", "task_no"),
    "duty_shifts": ("post", "duty_posts", "name"),
    "grid_assignments": ("staff_no", "staff", "staff_no"),
}


@dataclass(frozen=True)
class Scope:
    """What one reader may see: a township (乡镇) and within it a village.

    ``Scope()`` is everything (a one-township database, the county). Reads
    through :func:`load_ledger` and the Dataset add :meth:`where` to their
    SQL, so a scoped page never holds another township's rows.

    Examples
    --------
    >>> Scope(township="城郊乡", village="柳湾村").label
    '城郊乡 · 柳湾村'
    >>> Scope().label
    '全部'
    """

    township: str | None = None
    village: str | None = None

    @property
    def label(self) -> str:
        return " · ".join(p for p in (self.township, self.village) if p) or "全部"

    @property
    def everything(self) -> bool:
        return not self.township and not self.village

    def where(self, key: str) -> list:
        """The SQL conditions on ledger ``key``'s table for this scope."""
        table = TABLES[key]
        clauses = []
        if self.township:
            clauses.append(table.c[OWNER] == self.township)
        if self.village:
            column = VILLAGE_COLUMN.get(key, "village")
            if column in table.c:
                clauses.append(table.c[column] == self.village)
            elif key in PARENTS:
                own, parent, parent_col = PARENTS[key]
                parent_scope = Scope(self.township, self.village).where(parent)
                clauses.append(table.c[own].in_(sa.select(TABLES[parent].c[parent_col]).where(*parent_scope)))
        return clauses

metadata = sa.MetaData()

#: Columns indexed in every ledger that has them: the scope filters of the
#: county-scale reads (``village = :v``, ``village IN (…)``, a grid's rows).
INDEXED_COLUMNS = ("village", "grid")

#: The column every table carries besides its ledger's fields: the township
#: (乡镇) a row belongs to. The store fills it on every insert (see
#: :func:`_owner_township`), so a county database can be read one township
#: at a time (``WHERE owner_township = :t``), with an index, and PostgreSQL's
#: row-level security can key on it. It is not a ledger field: forms,
#: templates and exports never show it.
OWNER = "owner_township"


def _make_table(ledger: Ledger) -> sa.Table:
    columns = [sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)]
    columns += [
        sa.Column(f.key, _SQL_TYPES[f.type](), nullable=True, comment=f.label) for f in ledger.fields
    ]
    indexes = [sa.Index(f"ix_{ledger.key}_{f.key}", f.key) for f in ledger.fields if f.key in INDEXED_COLUMNS]
    columns.append(sa.Column(OWNER, sa.String(64), nullable=True, default=_owner_default(ledger.key),
                             comment="所属乡镇（由系统填写）"))
    return sa.Table(
        ledger.key,
        metadata,
        *columns,
        sa.UniqueConstraint(*ledger.natural_key, name=f"uq_{ledger.key}_natural_key"),
        *indexes,
        sa.Index(f"ix_{ledger.key}_{OWNER}", OWNER),
        comment=ledger.label,
    )


TABLES: dict[str, sa.Table] = {key: _make_table(led) for key, led in LEDGERS.items()}

audit_table = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("user", sa.String(64), nullable=False),
    sa.Column("ledger", sa.String(64), nullable=False),
    sa.Column("row_key", sa.Text),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
)

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text),
)


# -- Users and roles (logins on a county server, ``fangkong hub``) -------------
# Not a ledger: nobody imports or exports it. The hub keeps the passwords;
# this table says who may see and write what. A user's rows in the hub and
# here are written together by ``fangkong user``.
users_table = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True, comment="登录名"),
    sa.Column("full_name", sa.String(64), comment="姓名"),
    sa.Column("role", sa.String(16), nullable=False, comment="角色"),
    sa.Column("township", sa.Text, comment="乡镇"),
    sa.Column("village", sa.Text, comment="村"),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False, comment="停用"),
    sa.Column("db_role", sa.String(63), comment="数据库角色（县级服务器上每个账号自己的 PostgreSQL 角色）"),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("updated", sa.DateTime, nullable=False),
    comment="用户与角色",
)


def find_user(bind, name: str | None) -> dict | None:
    """The ``users`` row of login ``name`` as a dict, or None (no such user,
    or a store without the table)."""
    if not name:
        return None
    with _reading(bind) as conn:
        if not sa.inspect(conn).has_table("users"):
            return None
        row = conn.execute(sa.select(users_table).where(users_table.c.name == name)).mappings().first()
    return None if row is None else dict(row)


# -- Engines -----------------------------------------------------------------


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=16)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
        sa.event.listen(engine, "connect", _session_scope)
    return engine


def _session_scope(dbapi_connection, _record):
    """On a county server (PostgreSQL), each new connection of a logged-in
    user's server carries that user's role and scope as the settings
    ``fangkong.role`` / ``fangkong.township`` / ``fangkong.village`` that the
    row-level security policies read (``fangkong user`` / ``fangkong hub``
    create them). The app sets them, from the hub's login, never the user;
    an unknown or disabled login gets role ``none``: no rows at all. They
    scope the owner's connections only: a login's server connects as the
    login's own database role, which the policies keep to the scope of its
    ``users`` row whatever these settings say."""
    from .config import hub_user_name

    name = hub_user_name()
    if name is None:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT role, township, village, disabled FROM users WHERE name = %s", (name,))
        row = cursor.fetchone()
    except Exception:  # a store without the users table yet
        dbapi_connection.rollback()
        row = None
    role, township, village = ("none", "", "") if row is None or row[3] else (row[0], row[1] or "", row[2] or "")
    cursor.execute("SELECT set_config('fangkong.role', %s, false), set_config('fangkong.township', %s, false),"
                   " set_config('fangkong.village', %s, false)", (role, township, village))
    cursor.close()
    dbapi_connection.commit()


def get_engine(db: str | Path | Engine | None = None) -> Engine:
    """Return a (cached) engine for ``db``: an Engine, a URL, a file path or None.

    None means ``FANGKONG_DB`` or ``data/fangkong.sqlite``.
    """
    if isinstance(db, Engine):
        return db
    return _engine_for(database_url(db))


def init_db(engine: Engine) -> migrations.Upgrade:
    """Bring the database's schema to the newest migration: every path that
    opens a database (pages, import, demo, tests) calls this.

    A new database gets every table; one made before migrations is adopted
    (the tables and columns it lacks added, rows untouched) and stamped; one
    at an older revision gets the revisions it lacks, audited. A database at
    the newest revision costs one read. See :mod:`fangkong_lib.migrations`.
    """
    return migrations.upgrade(engine, on_change=_audit_upgrade)


def _audit_upgrade(conn, result: migrations.Upgrade) -> None:
    after = {"from": result.before, "to": result.after, "revisions": result.applied}
    if result.adopted:
        after |= {"adopted": True, "created_tables": result.created_tables, "added_columns": result.added_columns}
    audit(conn, user="system", ledger="*", action="migrate", after=after)



def drop_all(engine: Engine) -> None:
    """Drop every table, the migrations' version table included (a rebuilt
    database starts from the first revision)."""
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {migrations.VERSION_TABLE}"))


def has_data(engine: Engine) -> bool:
    """True when the database has the tables and at least one village.

    A SQLite file that does not exist is not created by asking.
    """
    url = engine.url
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            return False
    if not sa.inspect(engine).has_table("villages"):
        return False
    with engine.connect() as conn:
        return bool(conn.execute(sa.select(sa.func.count()).select_from(TABLES["villages"])).scalar())


# -- Meta --------------------------------------------------------------------


def _reading(bind):
    """A connection to read with: the caller's own (inside its transaction),
    or a new one from an engine."""
    return nullcontext(bind) if isinstance(bind, sa.engine.Connection) else bind.connect()


@contextmanager
def _writing(bind):
    """A transaction to write in: the caller's (it commits), or a new one."""
    if isinstance(bind, sa.engine.Connection):
        yield bind
    else:
        with bind.begin() as conn:
            yield conn


def set_meta(bind: Engine | sa.engine.Connection, **values) -> None:
    """Store ``key=value`` pairs in the ``meta`` table (in the caller's
    transaction when given a Connection)."""
    with _writing(bind) as conn:
        for key, value in values.items():
            conn.execute(meta_table.delete().where(meta_table.c.key == key))
            conn.execute(meta_table.insert().values(key=key, value=str(value)))


def get_meta(bind: Engine | sa.engine.Connection) -> dict[str, str]:
    """The ``meta`` table as a dict (empty when the table does not exist)."""
    if not sa.inspect(bind).has_table("meta"):
        return {}
    with _reading(bind) as conn:
        return {k: v for k, v in conn.execute(sa.select(meta_table.c.key, meta_table.c.value))}


def data_today(meta: Mapping[str, str]) -> date:
    """The data's own "today": the ``today`` meta, else the demo's day for
    synthetic data, else the calendar date. Dates typed without a year
    (4月10日) take this day's year, whatever the entry path."""
    value = meta.get("today")
    if value:
        return date.fromisoformat(value)
    return DEMO_TODAY if meta.get("synthetic") == "1" else date.today()


# -- Values in and out ------------------------------------------------------


def _is_missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if np.isscalar(value) else False
    except (TypeError, ValueError):
        return False


def to_db_value(fld: Field, value):
    """Convert a Python/pandas value to what the column stores."""
    if isinstance(value, (list, tuple)) and fld.type == "list":
        return ";".join(str(v) for v in value) if value else None
    if _is_missing(value):
        return None
    if fld.type == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return pd.Timestamp(value).date()
    if fld.type == "datetime":
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return pd.Timestamp(value).to_pydatetime()
    if fld.type == "int":
        return int(value)
    if fld.type == "float":
        return float(value)
    if fld.type == "bool":
        return bool(value)
    if fld.type == "geometry" and not isinstance(value, str):
        return value.wkt
    return str(value)


def to_records(ledger: Ledger, frame: pd.DataFrame) -> list[dict]:
    """Rows of ``frame`` as dicts of storable values (only ledger columns)."""
    cols = [f for f in ledger.fields if f.key in frame.columns]
    out = []
    for row in frame[[f.key for f in cols]].itertuples(index=False, name=None):
        out.append({f.key: to_db_value(f, v) for f, v in zip(cols, row)})
    return out


def coerce_frame(ledger: Ledger, frame: pd.DataFrame) -> pd.DataFrame:
    """Give loaded columns the same dtypes on SQLite and PostgreSQL."""
    for fld in ledger.fields:
        if fld.key not in frame.columns:
            continue
        col = frame[fld.key]
        if fld.type in ("date", "datetime"):
            frame[fld.key] = pd.to_datetime(col, errors="coerce")
        elif fld.type == "bool":
            frame[fld.key] = col.map(lambda v: None if _is_missing(v) else bool(v)).astype("boolean")
        elif fld.type == "int":
            frame[fld.key] = pd.to_numeric(col, errors="coerce").astype("Int64")
        elif fld.type == "float":
            frame[fld.key] = pd.to_numeric(col, errors="coerce").astype("float64")
        else:
            frame[fld.key] = col.astype(object).where(col.notna(), None)
    return frame


# -- Reading -----------------------------------------------------------------


def load_ledger(
    engine: Engine | sa.engine.Connection,
    key: str,
    *,
    columns: Iterable[str] | None = None,
    with_id: bool = False,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Load a ledger as a DataFrame with the ledger's column order and dtypes.

    Dates and datetimes come back as ``datetime64``, booleans as ``boolean``,
    integers as ``Int64``. Geometry stays WKT text; see
    :func:`fangkong_lib.domain.geo.load_geo` for a GeoDataFrame. Given a
    Connection, the rows are read inside the caller's transaction. With a
    ``scope`` only that township's (village's) rows are read.
    """
    ledger = get_ledger(key)
    table = TABLES[key]
    names = list(columns) if columns is not None else ledger.columns
    cols = ([table.c.id] if with_id else []) + [table.c[n] for n in names]
    query = sa.select(*cols).order_by(table.c.id)
    if scope is not None:
        query = query.where(*scope.where(key))
    with _reading(engine) as conn:
        result = conn.execute(query)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return coerce_frame(ledger, frame)


def count_rows(engine: Engine | sa.engine.Connection, key: str) -> int:
    with _reading(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(TABLES[key])).scalar_one()


# -- Writing -----------------------------------------------------------------


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def audit(conn, *, user: str, ledger: str, action: str, row_key=None, before=None, after=None) -> None:
    """Record one change inside the caller's transaction."""
    conn.execute(
        audit_table.insert().values(
            ts=datetime.now().replace(microsecond=0),
            user=user,
            ledger=ledger,
            row_key=None if row_key is None else _json(row_key),
            action=action,
            before=None if before is None else _json(before),
            after=None if after is None else _json(after),
        )
    )


def write_ledger(
    engine: Engine,
    key: str,
    frame: pd.DataFrame,
    *,
    replace: bool = False,
    user: str = "system",
    note: str = "",
    chunk: int = 5000,
) -> int:
    """Insert all rows of ``frame`` in one transaction; return how many.

    With ``replace=True`` the ledger's rows are deleted first (used by the demo
    builder). The bulk write is audited as one entry with its row count.
    """
    ledger = get_ledger(key)
    table = TABLES[key]
    records = to_records(ledger, frame)
    with engine.begin() as conn:
        if replace:
            conn.execute(table.delete())
        for start in range(0, len(records), chunk):
            conn.execute(table.insert(), records[start : start + chunk])
        audit(
            conn,
            user=user,
            ledger=key,
            action="replace" if replace else "bulk_insert",
            after={"rows": len(records), "note": note},
        )
    if key == "villages":
        forget_villages(engine)
    return len(records)


def natural_key_of(ledger: Ledger, record: Mapping) -> dict:
    return {k: record.get(k) for k in ledger.natural_key}


def upsert_row(engine: Engine, key: str, values: Mapping, *, user: str) -> str:
    """Insert or update one row by its natural key; return the action taken.

    ``values`` holds field keys; missing fields are left as they are on update.
    The change is audited with before and after. Returns ``"inserted"``,
    ``"updated"`` or ``"unchanged"``.
    """
    with engine.begin() as conn:
        return upsert_in(conn, key, values, user=user)


def upsert_in(conn, key: str, values: Mapping, *, user: str) -> str:
    """:func:`upsert_row` inside the caller's transaction, so several writes
    commit or roll back together."""
    ledger = get_ledger(key)
    table = TABLES[key]
    record = {f.key: to_db_value(f, values[f.key]) for f in ledger.fields if f.key in values}
    nk = natural_key_of(ledger, record)
    if any(v is None for v in nk.values()):
        raise ValueError(f"{ledger.label}: 缺少关键字段 {', '.join(ledger.natural_key)}")
    cond = sa.and_(*(table.c[k] == v for k, v in nk.items()))
    existing = conn.execute(sa.select(table).where(cond)).mappings().first()
    if key == "villages":
        forget_villages(conn)
    if existing is None:
        conn.execute(table.insert().values(**record))
        audit(conn, user=user, ledger=key, action="insert", row_key=nk, after=record)
        return "inserted"
    before = {k: existing[k] for k in record}
    if before == record:
        return "unchanged"
    conn.execute(table.update().where(cond).values(**record))
    audit(conn, user=user, ledger=key, action="update", row_key=nk, before=before, after=record)
    return "updated"


def load_audit(engine: Engine, ledger: str | None = None) -> pd.DataFrame:
    query = sa.select(audit_table).order_by(audit_table.c.id)
    if ledger:
        query = query.where(audit_table.c.ledger == ledger)
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def data_version(bind: Engine | sa.engine.Connection) -> int:
    """A number that grows with every audited write (the newest audit entry's
    id; 0 when there is none): one cheap query to tell whether anyone,
    another kernel included, wrote since a Dataset was read."""
    with _reading(bind) as conn:
        return int(conn.execute(sa.select(sa.func.max(audit_table.c.id))).scalar() or 0)


def ledgers_written_since(bind: Engine | sa.engine.Connection, version: int) -> tuple[int, set[str]]:
    """(current :func:`data_version`, the ledgers written after ``version``);
    ``"*"`` among them means every ledger (a migration)."""
    with _reading(bind) as conn:
        newest = int(conn.execute(sa.select(sa.func.max(audit_table.c.id))).scalar() or 0)
        if newest <= version:
            return newest, set()
        rows = conn.execute(sa.select(audit_table.c.ledger).distinct()
                            .where(audit_table.c.id > version, audit_table.c.id <= newest))
        return newest, {r[0] for r in rows}


def load_ledgers(engine: Engine, keys: Iterable[str] | None = None, *,
                 scope: Scope | None = None) -> dict[str, pd.DataFrame]:
    """Load several ledgers at once: ``{key: DataFrame}`` (all when ``keys`` is None)."""
    return {key: load_ledger(engine, key, scope=scope) for key in (keys if keys is not None else LEDGERS)}


def townships(engine: Engine | sa.engine.Connection) -> list[str]:
    """The townships of the database, in village-code order."""
    villages = TABLES["villages"]
    query = (sa.select(villages.c[OWNER], sa.func.min(villages.c.code).label("first"))
             .group_by(villages.c[OWNER]).order_by("first"))
    with _reading(engine) as conn:
        return [t for t, _ in conn.execute(query) if t]


def township_of(engine: Engine | sa.engine.Connection, village: str) -> str | None:
    """The township of ``village`` (None when the village is unknown)."""
    villages = TABLES["villages"]
    with _reading(engine) as conn:
        return conn.execute(sa.select(villages.c[OWNER]).where(villages.c.name == village)).scalar()


def count_by_township(engine: Engine | sa.engine.Connection, key: str, *where) -> dict[str, int]:
    """Rows of ledger ``key`` per township (``where``: extra SQL conditions),
    counted by the database."""
    table = TABLES[key]
    query = sa.select(table.c[OWNER], sa.func.count()).group_by(table.c[OWNER])
    if where:
        query = query.where(*where)
    with _reading(engine) as conn:
        return {t: int(n) for t, n in conn.execute(query)}

