"""status-list indexes that reveal neither order nor volume: the secret that shuffles them

One row: 32 random bytes (hex) and ``base``, above every index handed out before (by the plain
``status_index`` counter, or by an earlier scheme), so indexes already printed in QR codes never
collide with new ones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:30:00
"""

import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_index_scheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    counted = bind.execute(sa.text("SELECT MAX(value) FROM counter WHERE name = 'status_index'")).scalar()
    used = bind.execute(sa.text("SELECT MAX(status_index) FROM licence_version")).scalar()
    bind.execute(
        sa.text("INSERT INTO status_index_scheme (id, secret, base) VALUES (1, :secret, :base)"),
        {"secret": secrets.token_hex(32), "base": max(counted or 0, used or 0) + 1},
    )


def downgrade() -> None:
    op.drop_table("status_index_scheme")
