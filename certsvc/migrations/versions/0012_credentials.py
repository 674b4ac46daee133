"""credentials: staff tokens (name, scopes, expiry) and why a credential was revoked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("api_credential") as batch:
        batch.add_column(sa.Column("name", _S(length=100), nullable=True))
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("expires_at", _T(), nullable=True))
        batch.add_column(sa.Column("revoke_reason", _S(length=300), nullable=True))
    op.create_index("ix_api_credential_kind_owner", "api_credential", ["kind", "owner_id"])


def downgrade() -> None:
    op.drop_index("ix_api_credential_kind_owner", table_name="api_credential")
    with op.batch_alter_table("api_credential") as batch:
        batch.drop_column("revoke_reason")
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
        batch.drop_column("name")
