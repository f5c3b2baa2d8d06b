"""Schema migrations (Alembic): the one way a database's schema changes.

The revisions live in ``versions/`` next to this file, each a frozen step
(``0001`` the schema when migrations began, ``0002`` … the changes since);
``env.py`` is Alembic's environment, its target the store's metadata (derived
from the ledgers). No alembic.ini: the configuration is built here, with the
script location taken from this package's folder, so an installed workbook
migrates its database without any file of its own.

- :func:`upgrade` brings a database to the newest revision: a new database
  gets every table, one made before migrations is adopted first
  (:func:`adopt`), one at an older revision gets the revisions it lacks.
  ``store.init_db`` calls it: every path that opens a database goes through it.
- :func:`new_revision` writes the next revision by comparing the ledgers with
  the newest schema (``fangkong db revision -m "…"``, ``make migration MSG=…``).
- :func:`diff` lists what the ledgers have that the newest schema lacks (a
  test keeps it empty).
"""

from __future__ import annotations

__all__ = [
    "BASELINE", "SchemaError", "Upgrade", "adopt", "current", "diff", "head", "history",
    "new_revision", "upgrade",
]

import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
#: The revision whose schema a database made before migrations is brought to.
BASELINE = "0001"
#: Alembic's own table: the revision a database is at.
VERSION_TABLE = "alembic_version"
#: PostgreSQL advisory-lock key held while a database is upgraded, so that two
#: processes opening the same new database do not both create its tables.
_PG_LOCK_KEY = 0x66616E67  # "fang"


class SchemaError(ValueError):
    """The database's schema cannot be brought to this program's (message in Chinese)."""


@dataclass
class Upgrade:
    """What :func:`upgrade` did."""

    before: str | None  # None: a new database, or one made before migrations
    after: str | None
    applied: list[str] = field(default_factory=list)  # revision ids, oldest first
    adopted: bool = False  # made before migrations, brought to BASELINE and stamped
    created_tables: list[str] = field(default_factory=list)  # by the adoption
    added_columns: list[str] = field(default_factory=list)  # by the adoption, "table.column"

    @property
    def changed(self) -> bool:
        return self.adopted or bool(self.applied)


def _config(connection=None):
    import io

    from alembic.config import Config

    config = Config(stdout=io.StringIO())  # Alembic's own English progress lines: the callers speak
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision (one only: two revisions revising the same one are
    a merge mistake, refused here)."""
    heads = _script().get_heads()
    if len(heads) != 1:
        raise SchemaError(f"迁移有 {len(heads)} 个最新版本（{'、'.join(sorted(heads))}）："
                          "请把后加的迁移的 down_revision 改为另一个，使迁移连成一条线")
    return heads[0]


def _current_in(conn) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def current(engine) -> str | None:
    """The revision ``engine``'s database is at (None: new, or made before migrations)."""
    with engine.connect() as conn:
        return _current_in(conn)


def _ours(conn) -> set[str]:
    """The tables of the baseline the database has."""
    return set(sa.inspect(conn).get_table_names()) & set(_baseline().tables)


def _baseline() -> sa.MetaData:
    return _script().get_revision(BASELINE).module.baseline_metadata()


def _known(revision: str) -> None:
    from alembic.util import CommandError

    try:
        found = _script().get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise SchemaError(f"数据库的结构版本 {revision} 不是本程序的迁移（数据库可能已被更新版本的 fangkong 升级）："
                          "请升级 fangkong 后再打开")


@lru_cache(maxsize=1)
def _newest_on_file() -> str | None:
    """The newest revision read from the files' ``revision`` and
    ``down_revision`` lines (None unless there is exactly one): what
    :func:`head` says, without importing Alembic."""
    import ast

    parents: dict[str, tuple] = {}
    for path in (HERE / "versions").glob("*.py"):
        values = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id in ("revision", "down_revision"):
                    values[node.targets[0].id] = ast.literal_eval(node.value)
        if isinstance(values.get("revision"), str):
            down = values.get("down_revision")
            parents[values["revision"]] = tuple(down) if isinstance(down, (tuple, list)) else (down,)
    revised = {d for downs in parents.values() for d in downs}
    newest = [rev for rev in parents if rev not in revised]
    return newest[0] if len(newest) == 1 else None


def _version_in(engine) -> str | None:
    """The one revision in the database's version table (None: no table, or
    not exactly one row), read with SQLAlchemy alone."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def upgrade(engine, target: str = "head", *, on_change: Callable | None = None) -> Upgrade:
    """Bring the database to ``target`` (the newest revision by default).

    A database at the target is left alone after one read. Otherwise, in one
    transaction (under an advisory lock on PostgreSQL): a database with our
    tables and no revision is adopted (:func:`adopt`), then the missing
    revisions run. ``on_change(conn, result)`` is called in that transaction
    when an existing database changed (the store audits it there).
    """
    at = _version_in(engine)
    if at is not None and at == (_newest_on_file() if target == "head" else target):
        return Upgrade(at, at)  # the common case, without importing Alembic (most of a second)
    from alembic import command

    wanted = head() if target == "head" else target
    if current(engine) == wanted:
        return Upgrade(wanted, wanted)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        before = _current_in(conn)  # again, under the lock
        if before is not None:
            _known(before)
        result = Upgrade(before, before)
        if before is None and _ours(conn):
            created, added = adopt(conn)
            result.adopted, result.created_tables, result.added_columns = True, created, added
            before = BASELINE
        if before != wanted:
            command.upgrade(_config(conn), wanted)
        result.after = _current_in(conn)
        result.applied = [rev.revision for rev in _script().iterate_revisions(result.after, before or "base")
                          if rev.revision != before][::-1]
        if on_change is not None and (result.before is not None or result.adopted) and result.changed:
            on_change(conn, result)
    return result


def adopt(conn) -> tuple[list[str], list[str]]:
    """Bring a database made before migrations (by ``store.init_db`` of old,
    tables created and columns added as ledgers grew) to the baseline's
    schema, in the caller's transaction, and stamp it with the baseline.

    Only adds: the tables it lacks, and the columns its tables lack (all
    nullable, so no row changes). Returns (created tables, added
    "table.column").
    """
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    baseline = _baseline()
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names())
    created = [t.name for t in baseline.sorted_tables if t.name not in existing]
    baseline.create_all(conn, tables=[baseline.tables[name] for name in created])
    context = MigrationContext.configure(conn)
    ops = Operations(context)
    added = []
    for table in baseline.sorted_tables:
        if table.name in created:
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                ops.add_column(table.name, sa.Column(column.name, column.type, nullable=True,
                                                     comment=column.comment))
                added.append(f"{table.name}.{column.name}")
    context.stamp(_script(), BASELINE)
    return created, added


def _without_comments(diffs: list) -> list:
    """Autogenerate's differences, less those of comments only (a ledger's
    Chinese label is the column's comment: relabelling needs no migration)."""
    out = []
    for item in diffs:
        if isinstance(item, list):
            item = [d for d in item if d[0] != "modify_comment"]
            if item:
                out.append(item)
        elif item[0] not in ("add_table_comment", "remove_table_comment"):
            out.append(item)
    return out


def _include_name(name, kind, _parent) -> bool:
    return not (kind == "table" and name == VERSION_TABLE)


def diff(engine, metadata: sa.MetaData) -> list:
    """What ``metadata`` (the store's, derived from the ledgers) has that the
    database's schema has not, or the reverse, as Alembic's autogenerate
    differences (empty when the newest revision matches the ledgers)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _include_name})
        return _without_comments(compare_metadata(context, metadata))


def history() -> list[tuple[str, str]]:
    """Every revision, oldest first: (id, first line of its docstring)."""
    revisions = list(_script().walk_revisions())[::-1]
    return [(rev.revision, (rev.doc or "").strip().splitlines()[0] if rev.doc else "") for rev in revisions]


def _next_id() -> str:
    numbers = [int(rev) for rev, _ in history() if re.fullmatch(r"\d+", rev)]
    return f"{max(numbers, default=0) + 1:04d}"


def new_revision(message: str, metadata: sa.MetaData, engine=None, *,
                 directory: Path | None = None) -> tuple[Path, list]:
    """Write the next revision: what ``metadata`` has that the newest schema
    lacks, autogenerated (batch operations, so it runs on SQLite too).

    The newest schema is that of ``engine`` (which must be at the newest
    revision), or of a scratch SQLite database upgraded to it. Returns the new
    file and the differences it covers (empty: a blank revision to fill by
    hand, e.g. to move data).
    """
    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        scratch = engine is None
        if scratch:
            engine = sa.create_engine(f"sqlite:///{tmp}/scratch.sqlite")
            upgrade(engine)
        elif current(engine) != head():
            raise SchemaError("数据库不在最新的结构版本：先运行 fangkong db upgrade，再生成新的迁移")
        try:
            differences = diff(engine, metadata)
            with engine.begin() as conn:
                config = _config(conn)
                config.attributes["target_metadata"] = metadata
                if directory is not None:
                    config.set_main_option("path_separator", "os")
                    config.set_main_option("version_locations", os.pathsep.join((str(HERE / "versions"), str(directory))))
                script = command.revision(config, message=message, autogenerate=True, rev_id=_next_id(),
                                          version_path=None if directory is None else str(directory))
        finally:
            if scratch:
                engine.dispose()
    _script.cache_clear()
    return Path(script.path), differences
