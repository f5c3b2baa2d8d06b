"""Index the village and grid of every ledger that has them.

The county-scale reads filter by village (``village = :v`` or ``village IN
(SELECT name FROM villages WHERE township = :t)``) and by grid; without an
index each of them scans the whole ledger. The store's metadata declares the
same indexes (``store.INDEXED_COLUMNS``).

``if_not_exists``: a database built from the metadata (as tests do) may have
them already.

Revision ID: 0002
Revises: 0001
Create Date: 2022-04-10
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: (table, column) pairs indexed by this revision (frozen: later ledgers index
#: their own columns in their own revision).
INDEXED = (
    ("away", "grid"),
    ("away", "village"),
    ("command_units", "village"),
    ("controls", "grid"),
    ("controls", "village"),
    ("daily_checks", "village"),
    ("distributions", "village"),
    ("drug_buyers", "village"),
    ("duty_posts", "village"),
    ("enforcements", "village"),
    ("fever_reports", "village"),
    ("gatherings", "village"),
    ("grids", "village"),
    ("households", "grid"),
    ("households", "village"),
    ("inspections", "village"),
    ("leads", "grid"),
    ("leads", "village"),
    ("meetings", "village"),
    ("natural_villages", "village"),
    ("party_members", "grid"),
    ("party_members", "village"),
    ("places", "village"),
    ("problems", "village"),
    ("publicity", "village"),
    ("pushes", "village"),
    ("returnees", "grid"),
    ("returnees", "village"),
    ("staff", "grid"),
    ("staff", "village"),
    ("supervisions", "village"),
    ("tasks", "village"),
    ("tests", "village"),
    ("village_reports", "village"),
    ("volunteer_assignments", "grid"),
    ("volunteer_assignments", "village"),
    ("volunteers", "village"),
)


def upgrade() -> None:
    for table, column in INDEXED:
        op.create_index(f"ix_{table}_{column}", table, [column], if_not_exists=True)


def downgrade() -> None:
    for table, column in INDEXED:
        op.drop_index(f"ix_{table}_{column}", table_name=table, if_exists=True)
