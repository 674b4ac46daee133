"""Public verification counts: how often each licence was checked per day, nothing about who.

Scans are counted in memory and written in one statement every few seconds (and at shutdown),
so a page view costs no write transaction; another process's counts appear once it flushes.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Engine

from certsvc.core.clock import today
from certsvc.core.head_only import head_only

_UPSERT = text(
    "INSERT INTO verification_count (licence_id, day, count) VALUES (:l, :d, :n) "
    "ON CONFLICT (licence_id, day) DO UPDATE SET count = verification_count.count + :n"
)


class ScanCounter:
    """QR scans counted in memory and written in one statement per flush: a scan must not cost a write."""

    def __init__(self) -> None:
        self._pending: Counter[tuple[str, date]] = Counter()
        self._lock = threading.Lock()

    def add(self, licence_id: str) -> None:
        """Count one scan of ``licence_id`` today (not for a ``HEAD``)."""
        if head_only():
            return
        with self._lock:
            self._pending[(licence_id, today())] += 1

    def flush(self, engine: Engine) -> int:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return 0
        try:
            with engine.begin() as conn:
                conn.execute(_UPSERT, [{"l": lid, "d": day, "n": n} for (lid, day), n in pending.items()])
        except Exception:
            with self._lock:  # keep them for the next flush
                self._pending.update(pending)
            raise
        return sum(pending.values())
