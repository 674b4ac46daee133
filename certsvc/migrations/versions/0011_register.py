"""the register and keyset pagination: indexes on each list's order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:30:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (index, table, columns): each list's filter columns, then its stable order
INDEXES = (
    ("ix_licence_register", "licence", ["department_id", "created_at", "id"]),
    ("ix_licence_register_state", "licence", ["department_id", "state", "created_at", "id"]),
    ("ix_licence_register_type", "licence", ["department_id", "licence_type_id", "created_at", "id"]),
    ("ix_licence_holder_created", "licence", ["holder_uscc", "created_at", "id"]),
    ("ix_grant_enterprise_created", "grant", ["enterprise_id", "created_at", "id"]),
    ("ix_commitment_enterprise_signed", "commitment", ["enterprise_id", "signed_at", "id"]),
    ("ix_receipt_department_issued", "receipt", ["department_id", "issued_at", "id"]),
    ("ix_receipt_applicant_issued", "receipt", ["applicant_uscc", "issued_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
