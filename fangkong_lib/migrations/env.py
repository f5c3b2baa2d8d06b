"""Alembic's environment for the workbook's database, run by
:mod:`fangkong_lib.migrations` (no alembic.ini: the configuration is built in
code and the connection handed over in ``config.attributes``).

The target of autogenerate is the store's metadata, itself derived from the
ledger definitions: a ledger's new field shows up as a new column here.
SQLite cannot alter a table in place, so operations are rendered as batch
operations (copy and move) there and run in place on PostgreSQL.
"""

from alembic import context

from fangkong_lib.store import metadata

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata", metadata),
    render_as_batch=True,
    compare_type=True,
    # the table alembic keeps its revision in is not ours to compare
    include_name=lambda name, kind, _parent: not (kind == "table" and name == "alembic_version"),
)
with context.begin_transaction():
    context.run_migrations()
