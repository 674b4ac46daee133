"""Public views of QR tokens cached per server process, on PostgreSQL, dropped on every change.

Every statement that changes what a QR page shows notifies ``certsvc_public_views`` (triggers of
migration 0011), delivered to every listening process when its transaction commits; the server
signals the listeners before the writer's COMMIT returns. Each process keeps one dedicated
connection that LISTENs, and reads what has arrived on it (no round trip) before every look-up and
again before storing a view: anything notified is dropped at once, and a view read before a
notification is never stored after it (a generation number). If the connection is lost, the
cache is off (every scan reads the database) until it is listening again. SQLite has no cache:
one process on a local file is already at a bare route's pace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy.engine import make_url

from certsvc.core.clock import today

log = logging.getLogger(__name__)

CHANNEL = "certsvc_public_views"
RETRY_S = 1.0  # a lost listening connection is re-opened at most this often


class PublicViewCache:
    """``token → (licence id, public view)`` for scans without ``at``, valid on the day it was read."""

    def __init__(self, database_url: str, max_entries: int) -> None:
        self.enabled = database_url.startswith("postgresql") and max_entries > 0
        self._url = database_url
        self._max = max_entries
        self._lock = threading.Lock()
        self._views: OrderedDict[str, tuple[date, str, dict[str, Any]]] = OrderedDict()
        self._generation = 0
        self._conn: Any = None  # psycopg.Connection, imported only on PostgreSQL
        self._next_try = 0.0
        self.hits = 0
        self.misses = 0

    # --- the listening connection --------------------------------------------------------------

    def _connect(self) -> None:
        import psycopg

        url = make_url(self._url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=2, application_name="certsvc-view-cache")
        conn.execute(f"LISTEN {CHANNEL}")
        self._conn = conn
        self._views.clear()  # whatever changed while nobody listened
        self._generation += 1

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._views.clear()
        self._generation += 1
        self._next_try = time.monotonic() + RETRY_S
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                log.debug("closing the listening connection failed", exc_info=True)

    def _sync(self) -> bool:
        """Read what the listening connection has received; False while it is down (no cache)."""
        if self._conn is None:
            if time.monotonic() < self._next_try:
                return False
            try:
                self._connect()
            except Exception:
                log.warning("public view cache: cannot LISTEN; scans read the database until it can", exc_info=True)
                self._drop()
                return False
        try:
            changed = any(True for _ in self._conn.notifies(timeout=0))
        except Exception:
            log.warning("public view cache: the listening connection was lost; cache off until it is back")
            self._drop()
            return False
        if changed or self._conn.closed or self._conn.broken:
            self._views.clear()
            self._generation += 1
            if self._conn.closed or self._conn.broken:
                self._drop()
                return False
        return True

    # --- look-ups ------------------------------------------------------------------------------

    def get(self, token: str) -> tuple[tuple[str, dict[str, Any]] | None, int | None]:
        """``(hit or None, generation)``; the generation is None when nothing may be stored (cache off)."""
        if not self.enabled:
            return None, None
        with self._lock:
            if not self._sync():
                return None, None
            hit = self._views.get(token)
            if hit is not None and hit[0] == today():
                self._views.move_to_end(token)
                self.hits += 1
                return (hit[1], hit[2]), self._generation
            self.misses += 1
            return None, self._generation

    def put(self, token: str, generation: int | None, found: tuple[str, dict[str, Any]], day: date) -> None:
        """Store a view read after :meth:`get` returned ``generation``, unless something changed since."""
        if generation is None:
            return
        with self._lock:
            if not self._sync() or self._generation != generation:
                return
            self._views[token] = (day, found[0], found[1])
            if len(self._views) > self._max:
                self._views.popitem(last=False)

    def close(self) -> None:
        """Close the listening connection (at shutdown)."""
        with self._lock:
            self._drop()
