"""back-fill items: how often an item failed for a reason of the service's own (retried up to a limit)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licence_job_item") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("licence_job_item") as batch:
        batch.drop_column("attempts")
