"""A real server (`certsvc serve`) under hostile clients: an upload that is slow to sign, floods
of uploads that hold the analysis workers for their whole time limit, and connections that
stall. Nothing may stop the service from answering everyone else within a few seconds.

Clients are told apart by ``X-Forwarded-For``, believed because the server is configured to
trust its local peer as a reverse proxy (``CERTSVC_TRUSTED_PROXIES=127.0.0.1``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.data import FOOD_LICENCE_TYPE, business_licence_body, food_licence_body, random_uscc
from tests.support.hostile import annots_pdf, with_huge_annots
from tests.support.live import add_department_cli, free_port, serve, server_env

# The server under hostile clients: the database plays no part, so CI runs this once, on SQLite.
pytestmark = pytest.mark.once

LIMITS = {
    "CERTSVC_TRUSTED_PROXIES": "127.0.0.1",
    "CERTSVC_VERIFY_WORKERS": "2",
    "CERTSVC_RESERVED_WORKERS": "1",
    "CERTSVC_UPLOADS_PER_CLIENT": "1",
    "CERTSVC_UPLOADS_PER_MINUTE": "20",
    "CERTSVC_UPLOAD_QUEUE": "2",
    "CERTSVC_HEADER_TIMEOUT_S": "2",
    "CERTSVC_BODY_TIMEOUT_S": "2",
}
FEW_SECONDS = 4.0  # a legitimate request's bound while the attack runs (the verify limit is 4.5 s)


@dataclass
class Live:
    base: str
    port: int
    department: dict[str, str]
    enterprise: dict[str, str]
    verify_path: str
    licence_pdf: bytes
    slow_pdf: bytes
    """A sealed licence plus an update with a million annotations: its analysis runs into the limit."""

    def verify(self, pdf: bytes, address: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        r = httpx.post(
            f"{self.base}/api/v1/verify",
            files={"file": ("x.pdf", pdf, "application/pdf")},
            headers={"X-Forwarded-For": address, **(headers or {})},
            timeout=120,
        )
        return r, time.monotonic() - started


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data: Path = tmp_path_factory.mktemp("hostile")
    port = free_port()
    env = {**server_env(data, port), **LIMITS}
    market = add_department_cli(env, "深圳市市场监督管理局", "SZSJ", registrar=True)
    health = add_department_cli(env)
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as c:
            assert c.post("/api/v1/licence-types", headers=health, json=FOOD_LICENCE_TYPE).status_code == 201
            uscc = random_uscc()
            bl = c.post("/api/v1/licences", headers=market, json=business_licence_body(uscc))
            assert bl.status_code == 201, bl.text
            token = c.post(
                "/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": bl.json()["activation_code"]}
            ).json()["token"]
            food = c.post("/api/v1/licences", headers=health, json=food_licence_body(uscc)).json()
            pdf = c.get(f"/api/v1/licences/{food['id']}/pdf", headers=health).content
        yield Live(
            base=base,
            port=port,
            department=health,
            enterprise={"Authorization": f"Bearer {token}"},
            verify_path=food["verify_url"].removeprefix(base),
            licence_pdf=pdf,
            slow_pdf=with_huge_annots(pdf, 1_000_000),
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- finding 1: nothing reads an upload on the event loop ------------------------------------


def test_a_hostile_upload_to_enterprise_sign_does_not_stall_other_requests(live: Live) -> None:
    hostile = annots_pdf(3_000_000)  # opens in a blink; adding a field to its page takes many seconds
    outcome: dict[str, float] = {}

    def upload() -> None:
        started = time.monotonic()
        r = httpx.post(
            f"{live.base}/api/v1/enterprise/sign",
            headers=live.enterprise,
            files={"file": ("h.pdf", hostile, "application/pdf")},
            timeout=120,
        )
        outcome.update(status=r.status_code, elapsed=time.monotonic() - started)

    uploader = threading.Thread(target=upload)
    uploader.start()
    slowest, answered = 0.0, 0
    while uploader.is_alive():
        for path in ("/healthz", live.verify_path):
            started = time.monotonic()
            r = httpx.get(f"{live.base}{path}", headers={"Accept": "application/json"}, timeout=120)
            assert r.status_code == 200, r.text
            slowest, answered = max(slowest, time.monotonic() - started), answered + 1
        time.sleep(0.05)
    uploader.join()
    assert answered >= 2
    assert slowest < 3.0, f"/healthz or /v/ took {slowest:.1f} s while the upload was being signed"
    assert outcome["status"] in (422, 503), outcome
    assert outcome["elapsed"] < 20, outcome  # the 4.5 s limit (and the upload itself), not the whole signing


# --- finding 2: capacity shared fairly ---------------------------------------------------------


def _flood(live: Live, addresses: list[str]) -> tuple[ThreadPoolExecutor, list]:
    pool = ThreadPoolExecutor(len(addresses))
    return pool, [pool.submit(live.verify, live.slow_pdf, address) for address in addresses]


def test_a_flood_from_one_address_is_refused_and_another_address_is_served(live: Live) -> None:
    pool, flood = _flood(live, ["198.51.100.7"] * 10)
    time.sleep(2)  # the flood has arrived and holds what it was given
    r, elapsed = live.verify(live.licence_pdf, "203.0.113.20")
    answers = [f.result() for f in flood]
    pool.shutdown()
    assert r.status_code == 200 and r.json()["verdict"] == "genuine", r.text
    assert elapsed < FEW_SECONDS, f"another address waited {elapsed:.1f} s"
    refused = [(resp, took) for resp, took in answers if resp.status_code == 429]
    assert len(refused) >= 7, [resp.status_code for resp, _ in answers]
    assert {resp.status_code for resp, _ in answers} <= {200, 429}
    assert all(int(resp.headers["Retry-After"]) >= 1 for resp, _ in refused)
    assert max(took for _, took in refused) < 10


def test_a_flood_from_many_addresses_fills_the_queue_but_a_department_is_served(live: Live) -> None:
    pool, flood = _flood(live, [f"198.51.100.{i}" for i in range(20, 28)])
    time.sleep(2)
    r, elapsed = live.verify(live.licence_pdf, "203.0.113.21", live.department)
    answers = [f.result() for f in flood]
    pool.shutdown()
    assert r.status_code == 200 and r.json()["verdict"] == "genuine", r.text
    assert elapsed < FEW_SECONDS, f"the department waited {elapsed:.1f} s"
    busy = [(resp, took) for resp, took in answers if resp.status_code == 503]
    # two anonymous workers and a queue of two: the other four are told to come back
    assert len(busy) >= 3, [resp.status_code for resp, _ in answers]
    assert {resp.status_code for resp, _ in answers} <= {200, 503}
    assert all(int(resp.headers["Retry-After"]) >= 1 for resp, _ in busy)
    assert max(took for _, took in busy) < 10


def test_more_uploads_a_minute_than_allowed_from_one_address_get_429(live: Live) -> None:
    statuses = []
    for _ in range(25):
        r, _ = live.verify(b"%PDF-1.4\n%%EOF\n", "192.0.2.50")
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            break
    assert statuses[-1] == 429, statuses
    assert statuses[:20] == [200] * 20, statuses
    r, _ = live.verify(b"%PDF-1.4\n%%EOF\n", "192.0.2.51")  # somebody else is not affected
    assert r.status_code == 200


# --- finding 9: slow and stalled connections are closed ----------------------------------------


def _closed_within(sockets: list[socket.socket], seconds: float) -> int:
    """How many of ``sockets`` the server closed within ``seconds`` (reading until EOF)."""
    deadline = time.monotonic() + seconds
    closed = 0
    for sock in sockets:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            while sock.recv(4096):
                pass
            closed += 1
        except (TimeoutError, ConnectionError):
            pass
        finally:
            sock.close()
    return closed


def test_connections_stalled_in_the_request_line_are_closed(live: Live) -> None:
    stalled = []
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
        sock.sendall(b"GET /healthz HT")  # half a request line, then nothing
        stalled.append(sock)
    r = httpx.get(f"{live.base}/healthz", timeout=10)  # the server still answers meanwhile
    assert r.status_code == 200
    assert _closed_within(stalled, 15) == 50  # the header timeout is 2 s


def test_a_stalled_request_body_is_cut_off(live: Live) -> None:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n%PDF-1.7\n'
    sock.sendall(
        b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 100000\r\n\r\n" + part  # then nothing: the form parser waits for the rest
    )
    assert _closed_within([sock], 15) == 1  # the body timeout is 2 s
