"""live showing (亮照) codes, and grants' share tokens sealed so that their owner can see them again

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("grant") as batch:
        batch.add_column(sa.Column("token_sealed", _S(), nullable=True))
    op.create_table(
        "live_show",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("token_sealed", _S(), nullable=False),
        sa.Column("licence_ids", sa.JSON(), nullable=False),
        sa.Column("all_current", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", _T(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_live_show_enterprise_id", "live_show", ["enterprise_id"])


def downgrade() -> None:
    op.drop_index("ix_live_show_enterprise_id", table_name="live_show")
    op.drop_table("live_show")
    with op.batch_alter_table("grant") as batch:
        batch.drop_column("token_sealed")
