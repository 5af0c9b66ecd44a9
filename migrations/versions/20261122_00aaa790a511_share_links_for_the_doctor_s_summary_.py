"""share links for the doctor's summary, and their openings

A share link stores only the SHA-256 of its token; each opening is logged for the patient.

Revision ID: 00aaa790a511
Revises: 070c2ae39c8b
Create Date: 2026-11-22 04:36:09.177780
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '00aaa790a511'
down_revision: str | None = '070c2ae39c8b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('share_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('initials', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('questions', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('share_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_link_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_share_link_user_id'), ['user_id'], unique=False)

    op.create_table('share_link_opening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_link_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['share_link_id'], ['share_link.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('share_link_opening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_link_opening_share_link_id'), ['share_link_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('share_link_opening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_link_opening_share_link_id'))

    op.drop_table('share_link_opening')
    with op.batch_alter_table('share_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_link_user_id'))
        batch_op.drop_index(batch_op.f('ix_share_link_token_hash'))

    op.drop_table('share_link')
