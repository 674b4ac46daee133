"""证照分离 reform modes: credit restrictions, commitments (告知承诺), filings (备案)

Adds the credit flag of departments, the commitment terms of licence types, the kind of a
licence (``licence`` or ``filing``), and the tables of credit restrictions, signed commitments
and filings. Existing rows keep verifying: every licence so far is of kind ``licence``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:10:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("is_credit", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("licence_type") as batch:
        batch.add_column(sa.Column("commitment", sa.JSON(), nullable=True))
    with op.batch_alter_table("licence") as batch:
        batch.add_column(sa.Column("kind", _S(length=16), nullable=False, server_default="licence"))
    op.create_table(
        "credit_restriction",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("uscc", _S(length=18), nullable=False),
        sa.Column("reason", _S(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("lifted_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credit_restriction_department_id", "credit_restriction", ["department_id"])
    op.create_index("ix_credit_restriction_uscc", "credit_restriction", ["uscc"])
    op.create_table(
        "commitment",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("holder_uscc", _S(length=18), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("licence_type_id", sa.Integer(), nullable=False),
        sa.Column("text", _S(), nullable=False),
        sa.Column("conditions_due_days", sa.Integer(), nullable=False),
        sa.Column("on_overdue", _S(length=16), nullable=False),
        sa.Column("pdf_sha256", _S(length=64), nullable=False),
        sa.Column("signed_at", _T(), nullable=False),
        sa.Column("licence_id", _S(length=32), nullable=True),
        sa.Column("status", _S(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("overdue_at", _T(), nullable=True),
        sa.Column("decided_at", _T(), nullable=True),
        sa.Column("note", _S(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("licence_id"),
    )
    op.create_index("ix_commitment_enterprise_id", "commitment", ["enterprise_id"])
    op.create_index("ix_commitment_holder_uscc", "commitment", ["holder_uscc"])
    op.create_index("ix_commitment_status_due", "commitment", ["status", "due"])
    op.create_table(
        "filing",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("licence_id", _S(length=32), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("form_sha256", _S(length=64), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("licence_id"),
    )
    op.create_index("ix_filing_enterprise_id", "filing", ["enterprise_id"])


def downgrade() -> None:
    op.drop_table("filing")
    op.drop_table("commitment")
    op.drop_table("credit_restriction")
    with op.batch_alter_table("licence") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("licence_type") as batch:
        batch.drop_column("commitment")
    with op.batch_alter_table("department") as batch:
        batch.drop_column("is_credit")
