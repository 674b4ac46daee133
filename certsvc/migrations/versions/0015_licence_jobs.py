"""back-fill jobs: licence_job and its items; a back-filled licence's original issue date

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column("licence", sa.Column("issued_on", sa.Date(), nullable=True))
    op.create_table(
        "licence_job",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", _S(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", _S(length=500), nullable=True),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("started_at", _T(), nullable=True),
        sa.Column("finished_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_licence_job_department_id", "licence_job", ["department_id"])
    op.create_table(
        "licence_job_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", _S(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", _S(), nullable=False),
        sa.Column("number", _S(length=64), nullable=True),
        sa.Column("state", _S(length=16), nullable=False),
        sa.Column("lease_until", _T(), nullable=True),
        sa.Column("lease_token", _S(length=32), nullable=True),
        sa.Column("licence_id", _S(length=32), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("finished_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "seq"),
    )
    op.create_index("ix_licence_job_item_claim", "licence_job_item", ["job_id", "state", "seq"])


def downgrade() -> None:
    op.drop_table("licence_job_item")
    op.drop_table("licence_job")
    with op.batch_alter_table("licence") as batch:
        batch.drop_column("issued_on")
