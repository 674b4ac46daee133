"""events to supervising departments (审管互动): subscriptions, the outbox, deliveries, feedback

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "event_subscription",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("url", _S(length=2000), nullable=False),
        sa.Column("licence_types", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_sealed", _S(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("deleted_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_subscription_department_id", "event_subscription", ["department_id"])
    op.create_table(
        "outbox_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", _S(length=40), nullable=False),
        sa.Column("type", _S(length=32), nullable=False),
        sa.Column("licence_id", _S(length=32), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_outbox_event_licence_id", "outbox_event", ["licence_id"])
    op.create_table(
        "event_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("subscription_id", _S(length=32), nullable=False),
        sa.Column("order_key", _S(length=40), nullable=False),
        sa.Column("state", _S(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _T(), nullable=False),
        sa.Column("lease_until", _T(), nullable=True),
        sa.Column("lease_token", _S(length=32), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", _S(length=500), nullable=True),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("delivered_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_seq", "subscription_id"),
    )
    op.create_index("ix_event_delivery_event_seq", "event_delivery", ["event_seq"])
    op.create_index("ix_event_delivery_due", "event_delivery", ["state", "next_attempt_at"])
    op.create_index("ix_event_delivery_order", "event_delivery", ["subscription_id", "order_key", "state", "event_seq"])
    op.create_table(
        "event_feedback",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("event_id", _S(length=40), nullable=False),
        sa.Column("licence_id", _S(length=32), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("result", _S(length=64), nullable=False),
        sa.Column("note", _S(length=2000), nullable=True),
        sa.Column("created_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_feedback_event_id", "event_feedback", ["event_id"])
    op.create_index("ix_event_feedback_licence_id", "event_feedback", ["licence_id"])


def downgrade() -> None:
    op.drop_table("event_feedback")
    op.drop_table("event_delivery")
    op.drop_table("outbox_event")
    op.drop_table("event_subscription")
