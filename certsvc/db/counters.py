"""Gap-tolerant monotonic counters that are safe across processes (SQLite and PostgreSQL).

``UPDATE … RETURNING`` takes the row lock (PostgreSQL) or the write lock (SQLite) first, so two
processes can never read the same value.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

_BUMP = text("UPDATE counter SET value = value + :c WHERE name = :n RETURNING value")
_CREATE = text("INSERT INTO counter (name, value) VALUES (:n, 0) ON CONFLICT (name) DO NOTHING")


def next_value(session: Session | Connection, name: str, count: int = 1) -> int:
    """Reserve ``count`` values and return the first of them."""
    row = session.execute(_BUMP, {"n": name, "c": count}).first()
    if row is None:  # first use of this counter (another process may create it at the same time)
        session.execute(_CREATE, {"n": name})
        row = session.execute(_BUMP, {"n": name, "c": count}).one()
    return int(row[0]) - count + 1
