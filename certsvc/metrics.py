"""Prometheus metrics. With several server processes, ``PROMETHEUS_MULTIPROC_DIR`` (set by
``certsvc serve --workers N``) makes every process write its figures where /metrics reads them."""

from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ISSUANCES = Counter("certsvc_issuances_total", "Licences issued (new versions included)", ["kind"])
VERIFICATIONS = Counter("certsvc_verifications_total", "PDF and QR verifications by verdict", ["kind", "verdict"])
PAGE_SCANS = Counter("certsvc_page_scans_total", "Public licence page views (QR scans)")
PUBLIC_VIEW_CACHE = Counter(
    "certsvc_public_view_cache_total", "QR page look-ups by where the view came from (hit, miss, off)", ["result"]
)
VERIFY_PATHS = Counter(
    "certsvc_verify_paths_total",
    "PDF verifications by how they were answered (fast: recorded findings; full)",
    ["path"],
)
GRANT_DOWNLOADS = Counter("certsvc_grant_downloads_total", "Marked copies downloaded through grants")
ERRORS = Counter("certsvc_errors_total", "Error answers by status class", ["status"])
LATENCY = Histogram(
    "certsvc_request_seconds",
    "Request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def render() -> tuple[bytes, str]:
    """The Prometheus exposition of this process, or of all workers when they share a multiprocess directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Latency per route template (not per URL: tokens would explode the label set) and errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
            if status >= 400:
                ERRORS.labels(f"{status // 100}xx").inc()
