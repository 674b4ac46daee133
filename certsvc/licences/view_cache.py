"""Public views of QR tokens cached per server process, on PostgreSQL, dropped on every change.

Every statement that changes what a QR page shows notifies ``certsvc_public_views`` (triggers of
migration 0011). Each process keeps one dedicated asynchronous connection that LISTENs. Before a
cached view is served, a trivial statement that went over that connection after the scan arrived
must have completed: PostgreSQL sends a session every notification it has been signalled before
the statement's ReadyForQuery, and the writer signals the listeners before its own COMMIT returns —
so a change committed anywhere before the scan arrived has dropped the cache by then (a NOTIFY
without this round trip can still be on its way: measured, it is). Scans that arrive while such a
round trip is in flight share the next one, and the event loop is not blocked while it waits. A
view read before a notification is never stored after it (a generation number, checked after a
round trip that follows the read). If the connection is lost, the cache is off (every scan reads
the database) until it is listening again. SQLite has no cache: one process on a local file
already answers at close to a bare route's pace.
"""

from __future__ import annotations

import asyncio
import logging
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
ROUND_TRIP_S = 1.0  # a round trip on the listening connection slower than this: the connection is dropped
# TCP keepalives: a listening connection whose server or network is gone is noticed by the kernel too
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class PublicViewCache:
    """``token → (licence id, public view)`` for scans without ``at``, valid on the day it was read.
    Used from the event loop only."""

    def __init__(self, database_url: str, max_entries: int) -> None:
        self.enabled = database_url.startswith("postgresql") and max_entries > 0
        self._url = database_url
        self._max = max_entries
        self._views: OrderedDict[str, tuple[date, str, dict[str, Any]]] = OrderedDict()
        self._generation = 0
        self._conn: Any = None  # psycopg.AsyncConnection, imported only on PostgreSQL
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._started = 0  # round trips started on the listening connection
        self._done = 0  # the last one completed
        self._next_try = 0.0
        self._abandoned: set[asyncio.Task[Any]] = set()  # connections given up on, being closed

    # --- the listening connection --------------------------------------------------------------

    async def _connect(self) -> None:
        import psycopg

        url = make_url(self._url).set(drivername="postgresql")
        conninfo = psycopg.conninfo.make_conninfo(url.render_as_string(hide_password=False), **_KEEPALIVES)
        conn = await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, connect_timeout=2, application_name="certsvc-view-cache"
        )
        conn.add_notify_handler(self._notified)
        await conn.execute(f"LISTEN {CHANNEL}")
        self._conn = conn
        self._clear()  # whatever changed while nobody listened

    def _clear(self) -> None:
        self._views.clear()
        self._generation += 1

    def _notified(self, _notify: Any) -> None:
        self._clear()  # called by psycopg inside a round trip on the listening connection

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._clear()
        self._next_try = time.monotonic() + RETRY_S
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # already broken
                log.debug("closing the listening connection failed", exc_info=True)

    async def _fresh(self) -> bool:
        """Wait until a round trip that started after this call has completed on the listening
        connection (one started by another scan will do); False while the connection is down."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests start several): a new connection
            self._conn, self._loop, self._lock = None, loop, asyncio.Lock()
            self._clear()
        assert self._lock is not None
        ticket = self._started  # a round trip numbered above this one started after we arrived
        async with self._lock:
            if self._done > ticket and self._conn is not None:
                return True
            if self._conn is None:
                if time.monotonic() < self._next_try:
                    return False
                try:
                    await self._connect()
                except Exception:
                    log.warning("public view cache: cannot LISTEN; scans read the database until it can", exc_info=True)
                    await self._drop()
                    return False
            self._started += 1
            number = self._started
            trip = asyncio.ensure_future(self._conn.execute("SELECT 1"))
            try:
                done, _ = await asyncio.wait({trip}, timeout=ROUND_TRIP_S)
                if not done:
                    log.warning("public view cache: the listening connection stopped answering; cache off until back")
                    self._abandon(trip)
                    return False
                trip.result()
            except Exception:
                log.warning("public view cache: the listening connection was lost; cache off until it is back")
                await self._drop()
                return False
            self._done = number
            return True

    def _abandon(self, trip: asyncio.Future[Any]) -> None:
        """Give up on a connection whose round trip hangs: scans read the database from now on; the
        connection is closed in the background (psycopg waits seconds for a hung statement to end)."""
        conn, self._conn = self._conn, None
        self._clear()
        self._next_try = time.monotonic() + RETRY_S

        async def close() -> None:
            trip.cancel()
            try:
                await trip
            except BaseException:  # cancelled, or the connection broke meanwhile
                log.debug("abandoned round trip ended", exc_info=True)
            try:
                await conn.close()
            except Exception:
                log.debug("closing the abandoned listening connection failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(close())
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)

    # --- look-ups ------------------------------------------------------------------------------

    async def get(self, token: str) -> tuple[tuple[str, dict[str, Any]] | None, int | None]:
        """``(hit or None, generation)``; the generation is None when nothing may be stored (cache off).
        A token not held costs no round trip: :meth:`put` checks for changes after the read."""
        if not self.enabled:
            return None, None
        if token not in self._views:
            PUBLIC_VIEW_CACHE.labels("miss" if self._conn is not None else "off").inc()
            return None, self._generation
        if not await self._fresh():
            PUBLIC_VIEW_CACHE.labels("off").inc()
            return None, None
        hit = self._views.get(token)
        if hit is not None and hit[0] == today():
            self._views.move_to_end(token)
            PUBLIC_VIEW_CACHE.labels("hit").inc()
            return (hit[1], hit[2]), self._generation
        PUBLIC_VIEW_CACHE.labels("miss").inc()
        return None, self._generation

    async def put(self, token: str, generation: int | None, found: tuple[str, dict[str, Any]], day: date) -> None:
        """Store a view read after :meth:`get` returned ``generation``, unless a change was notified
        since (a round trip on the listening connection, after the read)."""
        if generation is None:
            return
        if not await self._fresh() or self._generation != generation:
            return
        self._views[token] = (day, found[0], found[1])
        if len(self._views) > self._max:
            self._views.popitem(last=False)

    async def close(self) -> None:
        """Close the listening connection (at shutdown)."""
        if self._conn is not None and self._loop is asyncio.get_running_loop():
            await self._drop()
