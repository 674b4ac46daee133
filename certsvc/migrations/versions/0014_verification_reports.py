"""verification reports (验证报告) of the /verify page

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "verification_report",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("checked_at", _T(), nullable=False),
        sa.Column("source", _S(length=8), nullable=False),
        sa.Column("checked_sha256", _S(length=64), nullable=True),
        sa.Column("verdict", _S(length=32), nullable=False),
        sa.Column("licence_id", _S(length=32), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("pdf_sha256", _S(length=64), nullable=True),
        sa.Column("signer_kid", _S(length=16), nullable=True),
        sa.Column("sealed_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_verification_report_pdf_sha256", "verification_report", ["pdf_sha256"])
    op.create_index("ix_verification_report_checked_at", "verification_report", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_verification_report_checked_at", table_name="verification_report")
    op.drop_index("ix_verification_report_pdf_sha256", table_name="verification_report")
    op.drop_table("verification_report")
