"""long-term validation: published CRLs, why a certificate was revoked, archive-time-stamped PDFs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocation_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("entries", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("this_update", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("next_update", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "number"),
    )
    with op.batch_alter_table("signing_certificate") as batch:
        batch.add_column(sa.Column("revocation_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    with op.batch_alter_table("licence_version") as batch:
        batch.add_column(sa.Column("archive_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("licence_version") as batch:
        batch.drop_column("archive_sha256")
    with op.batch_alter_table("signing_certificate") as batch:
        batch.drop_column("revocation_reason")
    op.drop_table("revocation_list")
