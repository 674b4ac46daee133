"""Where rendering and sealing run: in the calling process, or in a pool of worker processes.

Rendering a licence and signing it is CPU work; with ``CERTSVC_SIGN_WORKERS=N`` it runs in N
processes so that both cores work while the event loop keeps answering (verification pages must
stay fast while issuance is busy). Each worker opens the key backend itself: keys never travel
between processes, and a PKCS#11 worker holds its own session.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from certsvc.core.config import Settings

log = logging.getLogger("certsvc")


@dataclass(frozen=True)
class SealJob:
    """Everything a worker needs to render and seal one document (plain, picklable data)."""

    kind: str  # "licence" | "receipt"
    document: Any  # signing.models.LicenceDocument | ReceiptDocument
    signer_kid: str
    seal_purpose: str
    reason: str
    reserve_fields: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()
    bytes_reserved: int | None = None


def _render(job: SealJob) -> bytes:
    from signing import layout

    if job.kind == "receipt":
        return layout.render_receipt_pdf(job.document)
    return layout.render_licence_pdf(job.document)


async def _seal_with(job: SealJob, signer: Any) -> bytes:  # noqa: ANN401 - pyHanko Signer
    from signing import layout
    from signing.seal import seal_png
    from signing.seal_pdf import seal_pdf_async

    doc = job.document
    return await seal_pdf_async(
        _render(job),
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


@dataclass(frozen=True)
class StoredPdf:
    """A sealed PDF as the blob store holds it: the caller never needs the bytes themselves."""

    sha256: str
    size: int


# --- worker side ----------------------------------------------------------------------------

_worker_ctx: Any = None
_worker_loop: asyncio.AbstractEventLoop | None = None
_worker_signers: dict[str, Any] = {}


def _worker_init(settings: Settings) -> None:
    global _worker_ctx, _worker_loop
    from certsvc.context import Context
    from signing.fonts import warm_up

    _worker_ctx = Context(settings)
    _worker_loop = asyncio.new_event_loop()  # one loop for the worker's life, not one per job
    warm_up()


def _worker_signer(kid: str) -> Any:  # noqa: ANN401 - pyHanko Signer
    signer = _worker_signers.get(kid)
    if signer is None:
        from sqlmodel import Session

        with Session(_worker_ctx.engine) as s:
            info = _worker_ctx.keyring.by_kid(s, kid)
        if info is None:
            raise LookupError(f"no certificate {kid}")
        signer = _worker_signers[kid] = _worker_ctx.keyring.signer(info)
    return signer


def _worker_ready() -> int:
    return os.getpid()


def _worker_seal_and_store(job: SealJob) -> StoredPdf:
    assert _worker_loop is not None
    pdf = _worker_loop.run_until_complete(_seal_with(job, _worker_signer(job.signer_kid)))
    return StoredPdf(_worker_ctx.blobs.put(pdf), len(pdf))


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

    async def seal_and_store(self, job: SealJob) -> StoredPdf:
        """Render, seal and store the PDF (fsync'd) before anything is recorded about it."""
        if self.workers <= 0:
            from sqlmodel import Session

            with Session(self.keyring.engine) as s:
                info = self.keyring.by_kid(s, job.signer_kid)
            assert info is not None
            pdf = await _seal_with(job, self.keyring.signer(info))
            return StoredPdf(await asyncio.to_thread(self.blobs.put, pdf), len(pdf))
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), _worker_seal_and_store, job)
        except BrokenProcessPool:
            log.warning("a sealing worker died; starting a new pool and trying once more")
            self.close()
            return await loop.run_in_executor(self._executor(), _worker_seal_and_store, job)

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
