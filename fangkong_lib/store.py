"""The store: SQLAlchemy 2 tables derived from the ledger definitions.

An embedded SQLite file by default (WAL mode, so several Voilà kernels can read
while one writes); any SQLAlchemy URL, PostgreSQL included, otherwise. The same
code runs on both. Every change is audited: who, when, before, after.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .config import DEMO_TODAY, database_url
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

metadata = sa.MetaData()


def _make_table(ledger: Ledger) -> sa.Table:
    columns = [sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)]
    columns += [
        sa.Column(f.key, _SQL_TYPES[f.type](), nullable=True, comment=f.label) for f in ledger.fields
    ]
    return sa.Table(
        ledger.key,
        metadata,
        *columns,
        sa.UniqueConstraint(*ledger.natural_key, name=f"uq_{ledger.key}_natural_key"),
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
    an unknown or disabled login gets role ``none``: no rows at all."""
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


def init_db(engine: Engine) -> None:
    """Create every table that does not exist yet, and add the columns a
    ledger gained since the database was made (all columns are nullable, so
    adding one never touches existing rows)."""
    metadata.create_all(engine)
    migrate(engine)


def migrate(engine: Engine) -> list[str]:
    """Add missing ledger columns to existing tables; return what was added."""
    inspector = sa.inspect(engine)
    added = []
    with engine.begin() as conn:
        for key, table in TABLES.items():
            if not inspector.has_table(key):
                continue
            present = {c["name"] for c in inspector.get_columns(key)}
            for column in table.columns:
                if column.name in present:
                    continue
                ddl = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f'ALTER TABLE {key} ADD COLUMN "{column.name}" {ddl}'))
                added.append(f"{key}.{column.name}")
        if added:
            audit(conn, user="system", ledger="*", action="migrate", after={"added_columns": added})
    return added


def drop_all(engine: Engine) -> None:
    metadata.drop_all(engine)


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
) -> pd.DataFrame:
    """Load a ledger as a DataFrame with the ledger's column order and dtypes.

    Dates and datetimes come back as ``datetime64``, booleans as ``boolean``,
    integers as ``Int64``. Geometry stays WKT text; see
    :func:`fangkong_lib.domain.geo.load_geo` for a GeoDataFrame. Given a
    Connection, the rows are read inside the caller's transaction.
    """
    ledger = get_ledger(key)
    table = TABLES[key]
    names = list(columns) if columns is not None else ledger.columns
    cols = ([table.c.id] if with_id else []) + [table.c[n] for n in names]
    with _reading(engine) as conn:
        result = conn.execute(sa.select(*cols).order_by(table.c.id))
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


def load_ledgers(engine: Engine, keys: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load several ledgers at once: ``{key: DataFrame}`` (all when ``keys`` is None)."""
    return {key: load_ledger(engine, key) for key in (keys if keys is not None else LEDGERS)}
