"""revisions keyed by device edit: a save finds a replay without reading the day's history

Revision ID: fcac018e74ff
Revises: 27e5f13279bc
Create Date: 2026-11-30 04:31:32.292929
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'fcac018e74ff'
down_revision: str | None = '27e5f13279bc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _edit_key(data: object) -> str | None:
    """As app.services.entries.snapshot_edit_key, frozen here as it was when this ran."""
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        return None
    client_id, raw = data.get("client_id"), data.get("client_edited_at")
    if not isinstance(client_id, str) or not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{client_id}|{moment.isoformat()}"[:160]


def upgrade() -> None:
    with op.batch_alter_table('entry_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edit_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True))
        batch_op.create_index('ix_entry_revision_edit', ['user_id', 'day', 'edit_key'], unique=False)

    # Versions kept before this migration get their key too, so replays of them are found.
    connection = op.get_bind()
    revisions = sa.table(
        "entry_revision", sa.column("id", sa.Integer), sa.column("data", sa.JSON),
        sa.column("edit_key", sa.String),
    )
    rows = connection.execute(sa.select(revisions.c.id, revisions.c.data)).all()
    for revision_id, data in rows:
        key = _edit_key(data)
        if key is not None:
            connection.execute(
                revisions.update().where(revisions.c.id == revision_id).values(edit_key=key)
            )


def downgrade() -> None:
    with op.batch_alter_table('entry_revision', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_revision_edit')
        batch_op.drop_column('edit_key')
