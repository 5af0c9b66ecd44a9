"""unblinding codes are limited per patient and trial: wrong codes tried are kept for a while

Revision ID: a83816e8bed9
Revises: fcac018e74ff
Create Date: 2026-11-30 07:17:09.428744
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'a83816e8bed9'
down_revision: str | None = 'fcac018e74ff'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('unblind_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('trial_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['trial_id'], ['self_trial.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('unblind_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unblind_attempt_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_unblind_attempt_trial_id'), ['trial_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unblind_attempt_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('unblind_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unblind_attempt_user_id'))
        batch_op.drop_index(batch_op.f('ix_unblind_attempt_trial_id'))
        batch_op.drop_index(batch_op.f('ix_unblind_attempt_attempted_at'))

    op.drop_table('unblind_attempt')
