"""A live certsvc (uvicorn on 127.0.0.1, a free port) and headless Debian Chromium via Playwright.

One server and one browser for the whole session. The service's public base URL is the live URL,
so QR codes, share links and verify links in the pages point at it. No network beyond loopback:
Chromium runs with background networking, component updates and sync switched off.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Service, setup_departments

CHROMIUM = Path(os.environ.get("CERTSVC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 3,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
SHOTS = Path(os.environ.get("CERTSVC_SCREENSHOTS", "/tmp/certsvc-browser"))


def needs_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need the playwright Python package (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A certsvc served over real HTTP; ``live.client`` is an httpx client on its base URL."""
    needs_browser()
    import httpx
    import uvicorn

    from certsvc.app import create_app
    from certsvc.core.config import reset_settings
    from certsvc.db.session import session_scope
    from tests.conftest import make_settings

    tmp = tmp_path_factory.mktemp("live")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    saved = os.environ.copy()
    try:
        app = create_app(make_settings(tmp, CERTSVC_PUBLIC_BASE_URL=base))
    finally:  # leave the environment as it was for the other tests
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
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


@pytest.fixture(scope="session")
def base_url(live: Service) -> str:
    return live.ctx.settings.public_base_url


@pytest.fixture(scope="session")
def browser(live: Service):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


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


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
