"""Fair shares of the analysis workers: who may run an upload now, who waits, who is refused.

Every parse of an uploaded file (verification, enterprise signing) runs in a killable worker
process of one :class:`~verify.workers.WorkerPool`. Admission to it is decided here, before any
thread or worker is taken:

- anonymous uploads may use ``verify_workers`` of the workers; ``reserved_workers`` more are kept
  for authenticated callers (departments, enterprises), who may also use the others and are
  served first when a worker frees up;
- one client address may have ``uploads_per_client`` anonymous uploads running or waiting, and
  start ``uploads_per_minute`` a minute: beyond either, 429 with ``Retry-After``;
- at most ``upload_queue`` uploads of each kind wait for a worker, each at most ``upload_wait_s``:
  beyond, 503 with ``Retry-After``.

The limits hold per server process (``certsvc serve --workers N`` has N sets of them).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from certsvc.core.config import Settings
from certsvc.errors import TooManyRequests, Unavailable
from verify.workers import PRELOAD, WorkerPool

T = TypeVar("T")
log = logging.getLogger("certsvc")

WORKER_PRELOAD = (*PRELOAD, "signing.pipeline")
"""Imported once in the forkserver: verification and signing start without import time."""

MAX_TRACKED_CLIENTS = 100_000
"""Rate-limit state kept for at most this many client addresses (the least recent are forgotten)."""


@dataclass(frozen=True)
class Caller:
    """Who sent an upload: the client address (see :mod:`certsvc.api.client`) and whether the
    request carried valid department or enterprise credentials."""

    address: str
    authenticated: bool = False


class RateLimit:
    """A token bucket per client: ``per_minute`` starts a minute, in bursts of up to as many."""

    def __init__(self, per_minute: int, max_clients: int = MAX_TRACKED_CLIENTS) -> None:
        self.capacity = float(max(1, per_minute))
        self.per_s = self.capacity / 60.0
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float) -> float:
        """Take one token for ``client``: 0 if it had one, else the seconds until it will."""
        tokens, then = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.per_s)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.per_s
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


@dataclass
class _Waiter:
    authenticated: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = False


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class _State:
    running_anonymous: int = 0
    running_authenticated: int = 0
    per_client: Counter[str] = field(default_factory=Counter)
    waiting: dict[bool, deque[_Waiter]] = field(default_factory=lambda: {True: deque(), False: deque()})


class Capacity:
    """Admission to the service's analysis workers (see the module docstring); one per process."""

    def __init__(self, settings: Settings) -> None:
        self.anonymous_slots = max(1, settings.verify_workers)
        self.total = self.anonymous_slots + max(0, settings.reserved_workers)
        self.per_client = max(1, settings.uploads_per_client)
        self.queue = max(0, settings.upload_queue)
        self.wait_s = settings.upload_wait_s
        self.job_s = settings.verify_timeout_s
        self.rate = RateLimit(settings.uploads_per_minute)
        self.pool = WorkerPool(self.total, preload=WORKER_PRELOAD)
        # one thread per worker waits on its pipe, so the loop's default executor stays free
        self._threads = ThreadPoolExecutor(max_workers=self.total, thread_name_prefix="analysis")
        self._lock = threading.Lock()
        self._s = _State()

    # --- admission ------------------------------------------------------------------------

    def _can_run(self, authenticated: bool) -> bool:
        s = self._s
        if s.running_anonymous + s.running_authenticated >= self.total:
            return False
        return authenticated or s.running_anonymous < self.anonymous_slots

    def _start(self, authenticated: bool) -> None:
        if authenticated:
            self._s.running_authenticated += 1
        else:
            self._s.running_anonymous += 1

    def _admit_client(self, caller: Caller) -> None:
        """Per-address limits of anonymous uploads (429); called with the lock held."""
        if caller.authenticated:
            return
        if self._s.per_client[caller.address] >= self.per_client:
            raise TooManyRequests(
                f"at most {self.per_client} uploads at once from one address; wait for them to finish",
                retry_after=self.job_s,
            )
        wait = self.rate.take(caller.address, time.monotonic())
        if wait > 0:
            raise TooManyRequests(f"at most {self.rate.capacity:g} uploads a minute from one address", retry_after=wait)
        self._s.per_client[caller.address] += 1

    def _leave_client(self, caller: Caller) -> None:
        if caller.authenticated:
            return
        with self._lock:
            left = self._s.per_client[caller.address] - 1
            if left > 0:
                self._s.per_client[caller.address] = left
            else:
                del self._s.per_client[caller.address]

    def _hand_over(self) -> None:
        """Give free workers to waiters, authenticated first; called with the lock held."""
        for authenticated in (True, False):
            queue = self._s.waiting[authenticated]
            while queue and self._can_run(authenticated):
                waiter = queue.popleft()
                self._start(authenticated)
                waiter.granted = True
                try:
                    waiter.loop.call_soon_threadsafe(_wake, waiter.future)
                except RuntimeError:  # its event loop is gone, and the request with it
                    self._finish(authenticated, hand_over=False)
                    waiter.granted = False

    def _finish(self, authenticated: bool, *, hand_over: bool = True) -> None:
        if authenticated:
            self._s.running_authenticated -= 1
        else:
            self._s.running_anonymous -= 1
        if hand_over:
            self._hand_over()

    def _busy(self) -> Unavailable:
        return Unavailable(
            "every verification worker is busy and the queue is full; try again in a moment",
            retry_after=self.job_s,
        )

    async def _acquire(self, caller: Caller) -> None:
        authenticated = caller.authenticated
        with self._lock:
            queue = self._s.waiting[authenticated]
            if not queue and self._can_run(authenticated):
                self._start(authenticated)
                return
            if len(queue) >= self.queue:
                raise self._busy()
            loop = asyncio.get_running_loop()
            waiter = _Waiter(authenticated, loop, loop.create_future())
            queue.append(waiter)
        try:
            await asyncio.wait_for(waiter.future, self.wait_s)
        except (TimeoutError, asyncio.CancelledError) as e:
            with self._lock:
                if waiter.granted:  # the worker came as the wait ended: keep it, unless cancelled
                    if isinstance(e, TimeoutError):
                        return
                    self._finish(authenticated)
                else:
                    queue.remove(waiter)
            if isinstance(e, TimeoutError):
                raise self._busy() from None
            raise

    def _release(self, caller: Caller) -> None:
        with self._lock:
            self._finish(caller.authenticated)

    async def run(self, caller: Caller, fn: Callable[..., T], *args: Any) -> T:
        """Run the blocking ``fn(*args)`` (which uses :attr:`pool`) in a thread once ``caller`` is
        admitted. :class:`TooManyRequests` or :class:`Unavailable` (both with ``retry_after``) if not."""
        with self._lock:
            self._admit_client(caller)
        try:
            return await self._run_admitted(caller, fn, *args)
        finally:
            self._leave_client(caller)

    async def _run_admitted(self, caller: Caller, fn: Callable[..., T], *args: Any) -> T:
        await self._acquire(caller)
        job = asyncio.get_running_loop().run_in_executor(self._threads, functools.partial(fn, *args))
        # the worker is free again when the job ends, not when a cancelled request stops waiting
        job.add_done_callback(lambda _job: self._release(caller))
        return await asyncio.shield(job)

    async def run_unless(self, caller: Caller, quick: Callable[..., T | None], fn: Callable[..., T], *args: Any) -> T:
        """``quick(*args)`` in a thread (cheap work that needs no analysis worker: an answer from
        recorded findings); if it gives None, :meth:`run` ``fn(*args)``. One admission of ``caller``
        for both: the per-address limits count the upload once."""
        with self._lock:
            self._admit_client(caller)
        try:
            answer = await run_in_threadpool(functools.partial(quick, *args))
            if answer is not None:
                return answer
            return await self._run_admitted(caller, fn, *args)
        finally:
            self._leave_client(caller)

    async def warm(self) -> None:
        """Start the workers (and the forkserver) before the first upload needs them."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, self.pool.warm)
        except Exception:  # they start on first use instead
            log.exception("analysis workers failed to start; they will be started on first use")

    def snapshot(self) -> dict[str, int]:
        """Running and waiting uploads, for metrics and tests."""
        with self._lock:
            s = self._s
            return {
                "running_anonymous": s.running_anonymous,
                "running_authenticated": s.running_authenticated,
                "waiting_anonymous": len(s.waiting[False]),
                "waiting_authenticated": len(s.waiting[True]),
            }

    def close(self) -> None:
        """Stop the worker processes (at shutdown)."""
        self.pool.close()  # its workers start again on next use
        old, self._threads = self._threads, ThreadPoolExecutor(max_workers=self.total, thread_name_prefix="analysis")
        old.shutdown(wait=False)
