"""How ``certsvc serve`` runs uvicorn: connection limits, and deadlines for slow or stalled clients.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no deadline while a
request arrives: its keep-alive timer is reset by every byte, so a client trickling half a
request line, or stalling in the body, holds its connection (and the request's memory) forever.
:class:`GuardedHttpProtocol` adds what a reverse proxy would (nginx ``client_header_timeout``,
``client_body_timeout``, ``large_client_header_buffers``), so the service is safe without one too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from certsvc.core.config import Settings, get_settings

log = logging.getLogger("certsvc")

MAX_HEADER_BYTES = 64 * 1024
"""Request line and headers together; a larger request is answered 400 and closed."""


class HeadersTooLarge(Exception):
    """The request line and headers passed :data:`MAX_HEADER_BYTES`."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines: a request's headers must be complete within
    ``header_timeout_s`` of the connection opening (or of the previous response), a request body
    may not stall for longer than ``body_timeout_s``, and headers are bounded in size. A connection
    that misses a deadline is closed; while the application works on a request nothing is timed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout_s = settings.header_timeout_s
        self.body_timeout_s = settings.body_timeout_s
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_body = False

    # --- the deadline -------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if seconds > 0:
            self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if self._in_body and self.flow is not None and self.flow.read_paused:
            self._arm(self.body_timeout_s)  # we stopped reading (back-pressure), not the client
            return
        log.info("closing a connection from %s: request not received in time", self.client)
        self.transport.close()

    # --- connection and parser events ---------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_body:
            self._arm(self.body_timeout_s)  # the body deadline is for silence, not for the whole upload
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        super().on_message_begin()

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge  # httptools reports it as a parser error: 400 and close

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_body = True
        self._arm(self.body_timeout_s)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport is not None and not self.transport.is_closing() and not self._in_body:
            self._arm(self.header_timeout_s)  # the next request's headers (keep-alive closes idle ones sooner)


def run(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run the service under uvicorn with the connection limits and timeouts of ``settings``."""
    uvicorn.run(
        "certsvc.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # every access that matters is in the audit log and the metrics
        # X-Forwarded-For and -Proto only from CERTSVC_TRUSTED_PROXIES (uvicorn would trust 127.0.0.1)
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        http=GuardedHttpProtocol,
        timeout_keep_alive=settings.keep_alive_s,
        limit_concurrency=settings.max_connections,
    )
