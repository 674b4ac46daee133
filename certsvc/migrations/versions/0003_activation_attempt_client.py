"""failed activation attempts record the client address they came from

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activation_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index("ix_activation_attempt_client_at", ["client", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_activation_attempt_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("activation_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activation_attempt_at"))
        batch_op.drop_index("ix_activation_attempt_client_at")
        batch_op.drop_column("client")
