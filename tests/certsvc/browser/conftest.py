"""A live certsvc (uvicorn on 127.0.0.1, a free port) and headless Debian Chromium via Playwright.

One server and one browser per test module, both gone when the module ends. The service's public
base URL is the live URL, so QR codes, share links and verify links in the pages point at it. No
network beyond loopback: Chromium runs with background networking, component updates and sync
switched off.

Playwright's sync API runs its own event loop in the main thread and, between two calls, leaves
it marked as the running loop, so nothing else in the thread may use asyncio while a browser is
open. The browser is therefore module-scoped: Playwright stops (and closes its loop) before any
other module's tests run, whatever the order.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, needs_browser
from tests.support.service import Service, make_settings, restored_environment, setup_departments


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A certsvc served over real HTTP; ``live.client`` is an httpx client on its base URL."""
    needs_browser()
    import httpx
    import uvicorn

    from certsvc.app import create_app
    from certsvc.db.session import session_scope

    tmp = tmp_path_factory.mktemp("live")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with restored_environment():  # leave the environment as it was for the other tests
        app = create_app(make_settings(tmp, CERTSVC_PUBLIC_BASE_URL=base))
    ctx = app.state.ctx
    with session_scope(ctx.engine) as s:
        ctx.keyring.ensure_root(s)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-certsvc", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    client = httpx.Client(base_url=base, timeout=60)
    try:
        svc = Service(ctx, client, None, None, None)  # type: ignore[arg-type]
        setup_departments(svc)
        yield svc
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        ctx.engine.dispose()


@pytest.fixture(scope="module")
def base_url(live: Service) -> str:
    return live.ctx.settings.public_base_url


@pytest.fixture(scope="module")
def browser(live: Service):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
            try:
                yield b
            finally:
                b.close()
    finally:
        # Playwright marks its loop as the thread's running loop between calls; once it has
        # stopped, nothing may be left marked (asyncio.run and anyio portals refuse to start).
        if asyncio._get_running_loop() is not None:
            asyncio._set_running_loop(None)


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (its own cookies), closed after the test."""
    contexts = []

    def make(**extra):
        c = browser.new_context(**PHONE, **extra)
        c.set_default_timeout(20_000)
        contexts.append(c)
        return c

    yield make
    for c in contexts:
        c.close()
