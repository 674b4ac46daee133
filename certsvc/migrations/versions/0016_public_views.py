"""performance: public views announced on PostgreSQL (LISTEN/NOTIFY), analysed files remembered

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 05:40:00

On PostgreSQL every statement that changes what a QR page shows (a licence's state or version, a
commitment, an enterprise's business licence, a key's revocation, a department or licence type)
notifies the channel ``certsvc_public_views`` from a trigger, delivered when its transaction commits:
every server process drops its cached public views. Triggers, so that no writer can forget it.

``verified_file``: the findings of the full analysis of a file the service produced, by the file's
SHA-256 and the trust list's version, so that the same file is answered again without parsing it.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CHANNEL = "certsvc_public_views"
# table → the statements that change a public view. Inserting a licence or a licence version is a new
# licence or a revision (which also updates the licence row): no cached view names it yet. Only the
# columns a view shows count on the other tables, so that bookkeeping updates keep the caches.
_WATCHED = {
    "licence": "UPDATE OR DELETE",
    "licence_version": "UPDATE OR DELETE",
    "commitment": "INSERT OR UPDATE OR DELETE",
    "enterprise": "INSERT OR UPDATE OF uscc, business_licence_id OR DELETE",
    "signing_certificate": "UPDATE OF revoked_from OR DELETE",
    "department": "UPDATE OF name, uscc OR DELETE",
    "licence_type": "UPDATE OF code, name OR DELETE",
}


def upgrade() -> None:
    op.create_table(
        "verified_file",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("trust_version", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "trust_version"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION certsvc_public_views_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    for table, events in _WATCHED.items():
        op.execute(
            f'CREATE TRIGGER public_views_changed AFTER {events} OR TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION certsvc_public_views_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _WATCHED:
            op.execute(f'DROP TRIGGER IF EXISTS public_views_changed ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS certsvc_public_views_changed()")
    op.drop_table("verified_file")
