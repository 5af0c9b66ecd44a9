"""login failures know the device; registrations counted per address

Revision ID: 27e5f13279bc
Revises: 9ef27b86f80d
Create Date: 2026-11-30 04:04:04.986355
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '27e5f13279bc'
down_revision: str | None = '9ef27b86f80d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registration_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registration_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_attempt_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_attempt_attempted_at'), ['attempted_at'], unique=False)

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('device')

    with op.batch_alter_table('registration_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_attempt_attempted_at'))
        batch_op.drop_index(batch_op.f('ix_registration_attempt_address'))

    op.drop_table('registration_attempt')
