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
from dataclasses import dataclass, replace
from typing import Any

from certsvc.core.config import Settings
from certsvc.services.sealing import QrSpec, QrToken, sign_qr
from signing.layout import LayoutError

log = logging.getLogger("certsvc")

WORKER_NICENESS = 5
"""Sealing workers run at a lower CPU priority than the web process: while a batch is sealed, QR
scans and verifications still get a core when they need one, and the workers take the rest."""


@dataclass(frozen=True)
class SealJob:
    """Everything a worker needs to render and seal one document (plain, picklable data).

    The document's ``qr_text`` is left empty: the worker signs ``qr`` with the seal's certificate
    and prints its URL.
    """

    kind: str  # "licence" | "receipt"
    document: Any  # signing.models.LicenceDocument | ReceiptDocument
    signer_kid: str
    seal_purpose: str
    reason: str
    qr: QrSpec
    reserve_fields: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()
    bytes_reserved: int | None = None


@dataclass(frozen=True)
class Sealed:
    """A sealed PDF as the blob store holds it (the caller never needs the bytes themselves), and
    the signed QR token printed on it."""

    sha256: str
    size: int
    qr_token: str
    verify_url: str


def _render(kind: str, document: Any) -> bytes:  # noqa: ANN401 - LicenceDocument | ReceiptDocument
    from signing import layout

    if kind == "receipt":
        return layout.render_receipt_pdf(document)
    return layout.render_licence_pdf(document)


async def _seal_one(job: SealJob, keyring: Any, info: Any, signer: Any) -> tuple[bytes, QrToken]:  # noqa: ANN401
    """Sign the QR payload, render with its URL, and seal: (PDF, token)."""
    from signing import layout
    from signing.seal import seal_png
    from signing.seal_pdf import seal_pdf_async

    qr = sign_qr(keyring, info, job.qr)
    doc = replace(job.document, qr_text=qr.url)
    pdf = await seal_pdf_async(
        _render(job.kind, doc),
        signer,
        field_name="DeptSeal",
        seal_png=seal_png(doc.seal_name, job.seal_purpose, doc.seal_code),
        rect=layout.SEAL_RECT,
        certify=True,
        reason=job.reason,
        location=None,
        bytes_reserved=job.bytes_reserved,
        reserve_fields=list(job.reserve_fields),
    )
    return pdf, qr


# --- worker side ----------------------------------------------------------------------------

_worker_ctx: Any = None
_worker_loop: asyncio.AbstractEventLoop | None = None
_worker_keys: dict[str, tuple[Any, Any]] = {}
_worker_storer: ThreadPoolExecutor | None = None


def _worker_init(settings: Settings) -> None:
    global _worker_ctx, _worker_loop, _worker_storer
    from certsvc.context import Context
    from signing.fonts import warm_up

    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _worker_ctx = Context(settings)
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


def _worker_key(kid: str) -> tuple[Any, Any]:  # noqa: ANN401 - (CertInfo, pyHanko Signer)
    found = _worker_keys.get(kid)
    if found is None:
        from sqlmodel import Session

        with Session(_worker_ctx.engine) as s:
            info = _worker_ctx.keyring.by_kid(s, kid)
        if info is None:
            raise LookupError(f"no certificate {kid}")
        found = _worker_keys[kid] = (info, _worker_ctx.keyring.signer(info))
    return found


def _worker_ready() -> int:
    return os.getpid()


def _worker_seal_chunk(jobs: list[SealJob]) -> list[Sealed | LayoutError]:
    assert _worker_loop is not None and _worker_storer is not None
    pending: list[tuple[Future[str], int, QrToken] | LayoutError] = []
    for job in jobs:
        info, signer = _worker_key(job.signer_kid)
        try:
            pdf, qr = _worker_loop.run_until_complete(_seal_one(job, _worker_ctx.keyring, info, signer))
        except LayoutError as e:
            pending.append(e)
            continue
        pending.append((_worker_storer.submit(_worker_ctx.blobs.put, pdf), len(pdf), qr))
    return [p if isinstance(p, LayoutError) else Sealed(p[0].result(), p[1], p[2].token, p[2].url) for p in pending]


# --- caller side ----------------------------------------------------------------------------


class SealRunner:
    """Runs seal jobs in-process (``workers == 0``) or in a process pool started on first use."""

    def __init__(self, settings: Settings, keyring: Any, blobs: Any) -> None:  # noqa: ANN401 - Keyring, BlobStore
        self.settings = settings
        self.keyring = keyring
        self.blobs = blobs
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

    async def seal_and_store(self, job: SealJob) -> Sealed:
        """Sign the QR payload, render, seal and store the PDF (fsync'd) before anything is recorded
        about it. :class:`~signing.layout.LayoutError` if the content does not fit its page."""
        (result,) = await self.seal_chunk([job])
        if isinstance(result, LayoutError):
            raise result
        return result

    async def seal_chunk(self, jobs: list[SealJob]) -> list[Sealed | LayoutError]:
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

    async def _seal_here(self, job: SealJob) -> Sealed | LayoutError:
        from sqlmodel import Session

        with Session(self.keyring.engine) as s:
            info = self.keyring.by_kid(s, job.signer_kid)
        assert info is not None
        try:
            pdf, qr = await _seal_one(job, self.keyring, info, self.keyring.signer(info))
        except LayoutError as e:
            return e
        return Sealed(await asyncio.to_thread(self.blobs.put, pdf), len(pdf), qr.token, qr.url)

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
