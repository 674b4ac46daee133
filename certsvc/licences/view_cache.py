"""Public views of QR tokens cached per server process, on PostgreSQL, dropped on every change.

Every statement that changes what a QR page shows notifies ``certsvc_public_views`` (triggers of
migration 0011). Each process keeps one dedicated connection that LISTENs. Before a cached view is
served, one trivial statement goes over that connection: PostgreSQL sends a session every
notification it has been signalled before the statement's ReadyForQuery, and the writer signals
the listeners before its own COMMIT returns — so a change committed anywhere before the scan
arrived has dropped the cache by then (a NOTIFY without this round trip can still be on its way:
measured, it is). A view read before a notification is never stored after it (a generation
number, checked after the read). If the connection is lost, the cache is off (every scan reads
the database) until it is listening again. SQLite has no cache: one process on a local file
already answers at close to a bare route's pace.
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
from certsvc.metrics import PUBLIC_VIEW_CACHE

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

    # --- the listening connection --------------------------------------------------------------

    def _connect(self) -> None:
        import psycopg

        url = make_url(self._url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=2, application_name="certsvc-view-cache")
        conn.add_notify_handler(self._notified)
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

    def _notified(self, _notify: Any) -> None:
        self._views.clear()  # called by psycopg inside _sync's round trip, under self._lock
        self._generation += 1

    def _sync(self) -> bool:
        """One round trip on the listening connection, which delivers every notification signalled
        before it; False while the connection is down (no cache)."""
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
            self._conn.execute("SELECT 1")
        except Exception:
            log.warning("public view cache: the listening connection was lost; cache off until it is back")
            self._drop()
            return False
        return True

    # --- look-ups ------------------------------------------------------------------------------

    def get(self, token: str) -> tuple[tuple[str, dict[str, Any]] | None, int | None]:
        """``(hit or None, generation)``; the generation is None when nothing may be stored (cache off).
        A token not held costs no round trip: :meth:`put` checks for changes after the read."""
        if not self.enabled:
            return None, None
        with self._lock:
            if token not in self._views:
                PUBLIC_VIEW_CACHE.labels("miss" if self._conn is not None else "off").inc()
                return None, self._generation
            if not self._sync():
                PUBLIC_VIEW_CACHE.labels("off").inc()
                return None, None
            hit = self._views.get(token)
            if hit is not None and hit[0] == today():
                self._views.move_to_end(token)
                PUBLIC_VIEW_CACHE.labels("hit").inc()
                return (hit[1], hit[2]), self._generation
            PUBLIC_VIEW_CACHE.labels("miss").inc()
            return None, self._generation

    def put(self, token: str, generation: int | None, found: tuple[str, dict[str, Any]], day: date) -> None:
        """Store a view read after :meth:`get` returned ``generation``, unless a change was notified
        since (one round trip on the listening connection, after the read)."""
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
