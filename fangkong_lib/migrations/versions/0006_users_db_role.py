"""users db role: each login's own PostgreSQL role on a county server

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 16:55:47.249781

The column is filled by `fangkong user add/reset` (and `fangkong hub` for
logins made before it); SQLite stores leave it empty.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('db_role', sa.String(length=63), nullable=True,
                                      comment='数据库角色（县级服务器上每个账号自己的 PostgreSQL 角色）'))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('db_role')
