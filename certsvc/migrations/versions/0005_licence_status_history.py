"""licence status history: every state change and new version with its time, for ``?at=``

Backfilled from the licences as they are: issued (version 1, valid) at ``created_at``, each later
version at its ``issued_at``, and a state other than valid at ``updated_at``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licence_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_licence_status_change_licence_at", "licence_status_change", ["licence_id", "at"])
    op.execute(
        "INSERT INTO licence_status_change (licence_id, at, action, state, version) "
        "SELECT id, created_at, 'issue', 'valid', 1 FROM licence"
    )
    op.execute(
        "INSERT INTO licence_status_change (licence_id, at, action, state, version) "
        "SELECT licence_id, issued_at, 'amend', 'valid', version FROM licence_version WHERE version > 1"
    )
    op.execute(
        "INSERT INTO licence_status_change (licence_id, at, action, state, version, reason) "
        "SELECT id, updated_at, CASE state WHEN 'revoked' THEN 'revoke' ELSE 'suspend' END, state, "
        "current_version, state_reason FROM licence WHERE state <> 'valid'"
    )


def downgrade() -> None:
    op.drop_index("ix_licence_status_change_licence_at", table_name="licence_status_change")
    op.drop_table("licence_status_change")
