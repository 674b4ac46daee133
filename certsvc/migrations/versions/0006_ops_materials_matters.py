"""容缺 materials tracked per receipt, the catalogue of matters, expiry recorded by the sweep,
the matter code of a 免提交 look-up in the access log

Receipts issued before keep their ``materials`` JSON; their missing materials are copied into
``receipt_material`` (outstanding), and a receipt with any is ``pending``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:30:00
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receipt_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("overdue_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_id", "name"),
    )
    op.create_index("ix_receipt_material_receipt_id", "receipt_material", ["receipt_id"])
    op.create_index("ix_receipt_material_open", "receipt_material", ["received_at", "due"])
    op.create_table(
        "matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reform_mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("licence_type_id", sa.Integer(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("supervision", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_matter_department_id", "matter", ["department_id"])
    with op.batch_alter_table("receipt") as b:
        b.add_column(
            sa.Column(
                "materials_state",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="complete",
            )
        )
    with op.batch_alter_table("licence_version") as b:
        b.add_column(sa.Column("expiry_recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("access_event") as b:
        b.add_column(sa.Column("matter", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, materials FROM receipt")).all()
    for receipt_id, materials in rows:
        data = json.loads(materials) if isinstance(materials, str) else (materials or {})
        seen = set()
        for m in data.get("missing") or []:
            if m.get("name") in seen:
                continue
            seen.add(m.get("name"))
            bind.execute(
                sa.text("INSERT INTO receipt_material (receipt_id, name, due) VALUES (:r, :n, :d)"),
                {"r": receipt_id, "n": m["name"], "d": m["due"]},
            )
        if seen:
            bind.execute(sa.text("UPDATE receipt SET materials_state = 'pending' WHERE id = :r"), {"r": receipt_id})


def downgrade() -> None:
    with op.batch_alter_table("access_event") as b:
        b.drop_column("matter")
    with op.batch_alter_table("licence_version") as b:
        b.drop_column("expiry_recorded_at")
    with op.batch_alter_table("receipt") as b:
        b.drop_column("materials_state")
    op.drop_index("ix_matter_department_id", table_name="matter")
    op.drop_table("matter")
    op.drop_index("ix_receipt_material_open", table_name="receipt_material")
    op.drop_index("ix_receipt_material_receipt_id", table_name="receipt_material")
    op.drop_table("receipt_material")
