"""Where rendering and sealing run: in the calling process, or in a pool of worker processes.

Rendering a licence and signing it is CPU work; with ``CERTSVC_SIGN_WORKERS=N`` it runs in N
processes so that both cores work while the event loop keeps answering (verification pages must
stay fast while issuance is busy). Each worker opens the key backend itself: keys never travel
between processes, and a PKCS#11 worker holds its own session.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from sqlmodel import Session

from certsvc.core.config import Settings
from certsvc.resources import Resources
from signing.fonts import warm_up
from signing.layout import LayoutError
from signing.models import SealJob
from signing.pipeline import QrToken, SealKey, seal

log = logging.getLogger("certsvc")

WORKER_NICENESS = 5
"""Sealing workers run at a lower CPU priority than the web process: while a batch is sealed, QR
scans and verifications still get a core when they need one, and the workers take the rest."""


@dataclass(frozen=True)
class Stored:
    """A sealed PDF as the blob store holds it (the caller never needs the bytes themselves), and
    the signed QR token printed on it."""

    sha256: str
    size: int
    qr_token: str
    verify_url: str


# --- worker side ----------------------------------------------------------------------------

_worker_res: Resources | None = None
_worker_loop: asyncio.AbstractEventLoop | None = None
_worker_keys: dict[str, SealKey] = {}
_worker_storer: ThreadPoolExecutor | None = None


def _worker_init(settings: Settings) -> None:
    global _worker_res, _worker_loop, _worker_storer
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _worker_res = Resources(settings)
    _worker_loop = asyncio.new_event_loop()  # one loop for the worker's life, not one per job
    # blobs are written (and fsync'd) by a thread while the next document is sealed
    _worker_storer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="blob")
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
    warm_up()
    # Fonts, keys and the libraries are loaded for good: keep them out of the cyclic collector's
    # full passes (≈90 ms each, about once per 300 documents).
    gc.freeze()


def _exit_with_parent() -> None:
    """End this worker when the service process is gone, also after ``kill -9``: the pool's queue
    pipes are shared with the sibling workers, so a dead parent alone would never wake them."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def _seal_key(res: Resources, kid: str) -> SealKey:
    with Session(res.engine) as s:
        info = res.keyring.by_kid(s, kid)
    if info is None:
        raise LookupError(f"no certificate {kid}")
    return res.keyring.seal_key(info)


def _worker_key(kid: str) -> SealKey:
    assert _worker_res is not None
    found = _worker_keys.get(kid)
    if found is None:
        found = _worker_keys[kid] = _seal_key(_worker_res, kid)
    return found


def _worker_ready() -> int:
    return os.getpid()


def _worker_seal_chunk(jobs: list[SealJob]) -> list[Stored | LayoutError]:
    assert _worker_res is not None and _worker_loop is not None and _worker_storer is not None
    pending: list[tuple[Future[str], int, QrToken] | LayoutError] = []
    for job in jobs:
        try:
            sealed = _worker_loop.run_until_complete(seal(job, _worker_key(job.signer_kid)))
        except LayoutError as e:
            pending.append(e)
            continue
        pending.append((_worker_storer.submit(_worker_res.blobs.put, sealed.pdf), len(sealed.pdf), sealed.qr))
    return [p if isinstance(p, LayoutError) else Stored(p[0].result(), p[1], p[2].token, p[2].url) for p in pending]


# --- caller side ----------------------------------------------------------------------------


class SealRunner:
    """Runs seal jobs in-process (``workers == 0``) or in a process pool started on first use."""

    def __init__(self, settings: Settings, resources: Resources) -> None:
        self.settings = settings
        self.resources = resources
        self.workers = settings.sign_workers
        self._pool: ProcessPoolExecutor | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init,
                    initargs=(self.settings,),
                )
                self._pid = os.getpid()
            return self._pool

    async def seal_and_store(self, job: SealJob) -> Stored:
        """Sign the QR payload, render, seal and store the PDF (fsync'd) before anything is recorded
        about it. :class:`~signing.layout.LayoutError` if the content does not fit its page."""
        (result,) = await self.seal_chunk([job])
        if isinstance(result, LayoutError):
            raise result
        return result

    async def seal_chunk(self, jobs: list[SealJob]) -> list[Stored | LayoutError]:
        """:meth:`seal_and_store` for several documents as one job of one worker (less hand-off per
        document); a document whose content does not fit gets its ``LayoutError``, the others are
        stored."""
        if self.workers <= 0:
            return [await self._seal_here(job) for job in jobs]
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), _worker_seal_chunk, jobs)
        except BrokenProcessPool:
            log.warning("a sealing worker died; starting a new pool and trying once more")
            self.close()
            return await loop.run_in_executor(self._executor(), _worker_seal_chunk, jobs)

    async def _seal_here(self, job: SealJob) -> Stored | LayoutError:
        try:
            sealed = await seal(job, _seal_key(self.resources, job.signer_kid))
        except LayoutError as e:
            return e
        pdf = sealed.pdf
        return Stored(await asyncio.to_thread(self.resources.blobs.put, pdf), len(pdf), sealed.qr.token, sealed.qr.url)

    async def warm(self) -> None:
        """Start the worker processes now rather than on the first issuance (≈1 s each)."""
        if self.workers > 0:
            loop = asyncio.get_running_loop()
            pool = self._executor()
            try:
                await asyncio.gather(*(loop.run_in_executor(pool, _worker_ready) for _ in range(self.workers)))
            except BrokenProcessPool:
                log.exception("sealing workers failed to start; they will be started again on first use")
                self.close()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
