"""Gap-tolerant monotonic counters that are safe across processes (SQLite and PostgreSQL).

``UPDATE … RETURNING`` takes the row lock (PostgreSQL) or the write lock (SQLite) first, so two
processes can never read the same value.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def next_value(session: Session, name: str, count: int = 1) -> int:
    """Reserve ``count`` values and return the first of them."""
    session.execute(
        text("INSERT INTO counter (name, value) VALUES (:n, 0) ON CONFLICT (name) DO NOTHING"),
        {"n": name},
    )
    row = session.execute(
        text("UPDATE counter SET value = value + :c WHERE name = :n RETURNING value"),
        {"n": name, "c": count},
    ).one()
    return int(row[0]) - count + 1
