"""What every action shares: one error type, one transaction with its locks,
and validation against the state read inside that transaction.

An action validates (the same rules as an import, :mod:`fangkong_lib.ingest.validate`),
locks the subject it changes, writes every row with audit and keeps derived
data in step, all in ONE transaction: it commits whole or not at all. A
user's mistake raises :class:`ActionError` and nothing is written.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Iterator, Mapping

import pandas as pd
import sqlalchemy as sa

from .. import store
from ..config import hub_user_name
from ..ingest.validate import Problem, validate_record
from ..ledgers import get_ledger

_CHUNK = 5000
#: The audit user of writes the workbook makes by itself (e.g. plans
#: recomputed after a rule change), not in anybody's name.
SYSTEM_PREFIX = "系统"  # rows per statement of a bulk insert

#: The lock each ledger is written under: writers of one subject queue up,
#: so a check and the write it allows cannot be overtaken by another kernel.
SUBJECTS = {
    "problems": "problems", "problem_events": "problems", "supervisions": "problems",
    "places": "places", "inspections": "places",
    "donations": "supplies", "distributions": "supplies",
    "returnees": "returnees", "away": "returnees", "controls": "returnees", "tests": "returnees",
    "daily_checks": "returnees",
    "duty_posts": "duty", "duty_shifts": "duty",
    "command_units": "tasks", "meetings": "tasks", "tasks": "tasks", "task_events": "tasks",
    # leads and the ledgers that raise them (kept in step by actions.leads.sync_in)
    "leads": "leads", "pushes": "leads", "checkpoint_logs": "leads", "drug_buyers": "leads",
    "fever_reports": "leads",
    **dict.fromkeys(("staff", "grids", "households", "party_members", "grid_assignments"), "grids"),
    "volunteers": "volunteers", "volunteer_assignments": "volunteers",
}


class ActionError(ValueError):
    """A user's mistake: nothing was written.

    ``str(error)`` is the Chinese message to show; ``problems`` lists the
    :class:`~fangkong_lib.ingest.validate.Problem` of each field concerned
    (possibly none).
    """

    def __init__(self, message: str, problems: Iterable[Problem] = ()):
        super().__init__(message)
        self.problems: list[Problem] = list(problems)

    @classmethod
    def of(cls, problems: Iterable[Problem], prefix: str = "") -> "ActionError":
        """The error for a list of problems, one sentence each."""
        problems = list(problems)
        return cls(prefix + "；".join(p.sentence() for p in problems), problems)

    @classmethod
    def refused(cls, field_key: str, label: str, reason: str, value="") -> "ActionError":
        """The error for one field: ``label「value」：reason``."""
        return cls.of([Problem(field_key, label, str(value or ""), reason)])

    @classmethod
    def about(cls, field_key: str, label: str, message: str, value="") -> "ActionError":
        """The error for one field where a whole sentence reads better."""
        return cls(message, [Problem(field_key, label, str(value or ""), message)])


def engine_of(db) -> sa.engine.Engine:
    """The engine of ``db``: an Engine, or anything with ``.engine`` (a Dataset)."""
    return db if isinstance(db, sa.engine.Engine) else db.engine


def require_user(user: str | None) -> str:
    """The operator's name, stripped; refused when blank."""
    text = (user or "").strip()
    if not text:
        raise ActionError.about("user", "操作人", "请先填写操作人（谁录入的）")
    return text


def check_writer(conn, user: str) -> None:
    """Refuse a write by a viewer or a disabled login (read in the write's
    own transaction). Names not in ``users`` (single-PC operators) pass."""
    row = store.find_user(conn, user)
    if row is None:
        return
    if row["disabled"]:
        raise ActionError.about("user", "操作人", f"账号 {user} 已停用，不能录入", user)
    if row["role"] == "viewer":
        raise ActionError.about("user", "操作人", f"账号 {user} 为只读账号，不能录入", user)


def lock(conn, subject: str) -> None:
    """Serialise writers of one subject until the transaction ends: the first
    write takes SQLite's database write lock, and PostgreSQL's lock on the
    subject's row of ``meta``."""
    key = f"lock:{subject}"
    meta = store.meta_table
    stamp = datetime.now().isoformat(timespec="seconds")
    update = meta.update().where(meta.c.key == key).values(value=stamp)
    if conn.execute(update).rowcount:
        return
    if conn.dialect.name == "sqlite":  # the write lock is already ours: nobody can race the insert
        conn.execute(meta.insert().values(key=key, value=stamp))
        return
    # Two first-ever writers may both insert: the loser waits for the winner's
    # commit, fails inside its savepoint, and then locks the row like anyone.
    try:
        with conn.begin_nested():
            conn.execute(meta.insert().values(key=key, value=stamp))
    except sa.exc.IntegrityError:
        conn.execute(update)


@dataclass
class Tx:
    """One action's transaction: its connection, its operator, and the
    ledgers it changed (re-read by a Dataset after the commit)."""

    conn: sa.engine.Connection
    user: str
    touched: set[str] = field(default_factory=set)
    #: The writer's scope (a township's or a village's page): records may name
    #: only its villages.
    scope: store.Scope | None = None

    def upsert(self, key: str, values: Mapping, *, user: str | None = None) -> str:
        """Insert or update one row by its natural key, audited."""
        action = store.upsert_in(self.conn, key, values, user=user or self.user)
        if action != "unchanged":
            self.touched.add(key)
        return action

    def meta(self) -> dict[str, str]:
        return store.get_meta(self.conn)

    def today(self) -> date:
        """The data's today (``meta``), read in this transaction."""
        return store.data_today(self.meta())

    def villages(self, scope: Iterable[str] | None = None) -> list[str] | None:
        """The villages a record may name: the store's, within ``scope`` when
        given; None (no check) for a store without a village list yet."""
        table = store.TABLES["villages"]
        query = sa.select(table.c.name).order_by(table.c.id)
        if self.scope is not None:
            query = query.where(*self.scope.where("villages"))
        names = [r[0] for r in self.conn.execute(query)]
        if not names and scope is None:
            return None
        if scope is not None:
            allowed = set(scope)
            names = [n for n in names if n in allowed]
        return names

    def frame(self, key: str, *conditions) -> pd.DataFrame:
        """Rows of a ledger as this transaction sees them (the store's dtypes)."""
        table = store.TABLES[key]
        names = get_ledger(key).columns
        result = self.conn.execute(sa.select(*(table.c[n] for n in names)).where(*conditions).order_by(table.c.id))
        return store.coerce_frame(get_ledger(key), pd.DataFrame(result.fetchall(), columns=names))

    def row(self, key: str, **equal) -> dict | None:
        """The row of ``key`` whose columns equal ``equal`` (the last one), or None."""
        table = store.TABLES[key]
        found = self.conn.execute(sa.select(table).where(*(table.c[k] == v for k, v in equal.items()))
                                  .order_by(table.c.id.desc())).mappings().first()
        return None if found is None else {k: found[k] for k in get_ledger(key).columns}

    def exists(self, key: str, record: Mapping) -> bool:
        """Whether a row with ``record``'s natural key is stored."""
        return self.row(key, **{k: record[k] for k in get_ledger(key).natural_key}) is not None

    def clean(self, ledger_key: str, raw: Mapping, *, villages: Iterable[str] | None, today: date,
              prefix: str | None = None) -> dict:
        """The validated record, or ActionError naming every bad field."""
        ledger = get_ledger(ledger_key)
        record, problems = validate_record(ledger, raw, villages=villages, default_year=today.year, today=today)
        if problems:
            raise ActionError.of(problems, f"{ledger.label}：" if prefix is None else prefix)
        return record


def bulk_insert(conn, table, fields: list, rows: list[tuple]) -> None:
    """Bulk insert of value tuples (in ``fields`` order): see
    :func:`bulk_insert_columns`."""
    if rows:
        bulk_insert_columns(conn, table, fields, [list(col) for col in zip(*rows)])


def bulk_insert_columns(conn, table, fields: list, columns: list[list]) -> None:
    """Bulk insert of columns of values (one list per field of ``fields``,
    all as long), in the caller's transaction. Lists are joined as "a;b"
    once per distinct list; on SQLite SQLAlchemy's own value conversions are
    applied once per distinct value and the rows go straight to the driver
    with the statement compiled once (the same stored form as SQLAlchemy
    writes, a fraction of the per-row cost); on PostgreSQL, through
    SQLAlchemy's batched executemany, in chunks."""
    if not columns or not columns[0]:
        return
    n = len(columns[0])
    keys = [f.key for f in fields]
    columns = list(columns)
    for j, fld in enumerate(fields):
        if fld.type == "list":
            columns[j] = _joined_lists(fld, columns[j])
    village = store.VILLAGE_COLUMN.get(table.name, "village")
    villages = columns[keys.index(village)] if village in keys else [None] * n
    keys, columns = keys + [store.OWNER], columns + [store.owners_for(conn, table.name, villages)]
    if conn.dialect.name != "sqlite":
        records = [dict(zip(keys, row)) for row in zip(*columns)]
        for start in range(0, len(records), _CHUNK):
            conn.execute(table.insert(), records[start:start + _CHUNK])
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    position = {k: j for j, k in enumerate(keys)}
    ordered = []
    for key in compiled.positiontup:
        col = columns[position[key]]
        proc = table.c[key].type._cached_bind_processor(conn.dialect)
        if proc is not None:
            done: dict = {}
            col = [None if v is None else (done[v] if v in done else done.setdefault(v, proc(v))) for v in col]
        ordered.append(col)
    out = list(zip(*ordered))
    for start in range(0, len(out), _CHUNK):
        conn.exec_driver_sql(compiled.string, out[start:start + _CHUNK])


def _joined_lists(fld, values: list) -> list:
    """A list column as stored ("a;b"), each distinct list joined once."""
    done: dict = {}
    out = []
    for v in values:
        if type(v) is list and all(type(item) is str for item in v):  # the usual lists: names, ISO dates
            key = tuple(v)
            if key not in done:
                done[key] = store.to_db_value(fld, v)
            out.append(done[key])
        else:
            out.append(store.to_db_value(fld, v))
    return out


@contextmanager
def transaction(db, *subjects: str, user: str) -> Iterator[Tx]:
    """One transaction holding the locks of ``subjects`` (in a fixed order,
    so two actions never wait for each other crosswise). Everything written
    through it commits together, or nothing does; afterwards a Dataset passed
    as ``db`` re-reads the ledgers that changed.

    In a hub session the write is signed by the logged-in user, whatever
    ``user`` says; a viewer's or a disabled login's write is refused."""
    if not (user or "").startswith(SYSTEM_PREFIX):  # derived data kept in step is signed by the system
        user = hub_user_name() or user
    user = require_user(user)
    scope = getattr(db, "scope", None)
    writer = store.writing_for(scope.township) if scope is not None and scope.township else nullcontext()
    with writer, engine_of(db).begin() as conn:
        check_writer(conn, user)
        for subject in sorted(set(subjects)):
            lock(conn, subject)
        tx = Tx(conn, user, scope=scope)
        yield tx
    if tx.touched and hasattr(db, "reload"):
        db.reload(*sorted(tx.touched))


def as_date(value) -> date | None:
    """A date from a stored or typed value; None when blank."""
    if type(value) is date:  # the common case, first
        return value
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return pd.Timestamp(value).date() if value.strip() else None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None if pd.isna(value) else pd.Timestamp(value).date()


# -- What actions return where the result has structure --------------------------------


@dataclass(frozen=True)
class Opened:
    """Problems opened by an action (问题编号), with the message to show."""

    problem_nos: list[str]
    message: str

    @property
    def problem_no(self) -> str:
        """The first (usually the only) problem opened."""
        return self.problem_nos[0]

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class StageResult:
    """A problem's stage after the steps of an action."""

    problem_no: str
    stage: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Voucher:
    """A receipt or issue of supplies and its voucher number (凭证编号)."""

    voucher_no: str
    message: str

    def __str__(self) -> str:
        return self.message
