"""a chosen primary item: the patient's main item is kept for the comparison and the summary

Revision ID: a13f0c2d9e51
Revises: a83816e8bed9
Create Date: 2026-11-30 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'a13f0c2d9e51'
down_revision: str | None = 'a83816e8bed9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('primary_item', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('primary_item')
