"""Public verification counts: how often each licence was checked per day, nothing about who."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from certsvc.services.clock import today


def count_verification(s: Session, licence_id: str) -> None:
    s.execute(
        text(
            "INSERT INTO verification_count (licence_id, day, count) VALUES (:l, :d, 1) "
            "ON CONFLICT (licence_id, day) DO UPDATE SET count = verification_count.count + 1"
        ),
        {"l": licence_id, "d": today()},
    )
