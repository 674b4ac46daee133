"""Two server processes on one database: a status change made through one is seen by the very next
scan served by the other, though that process holds the page in its cache (PostgreSQL), also
after its listening connection was cut."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from tests.support.data import FOOD_LICENCE_TYPE, food_licence_body
from tests.support.live import CLI, add_department_cli, free_port, server_env, wait_ready

JSON = {"Accept": "application/json"}
ON_POSTGRES = bool(os.environ.get("CERTSVC_TEST_DATABASE_URL"))


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("two")
    port_a, port_b = free_port(), free_port()
    env = {**server_env(data, port_a), "CERTSVC_SIGN_WORKERS": "0", "CERTSVC_SCAN_FLUSH_S": "3600"}
    auth = add_department_cli(env)
    procs = []
    try:
        for port in (port_a, port_b):
            proc = subprocess.Popen(
                [*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            procs.append(proc)
        a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        for base, proc in zip((a, b), procs, strict=True):
            wait_ready(base, proc)
        assert httpx.post(f"{a}/api/v1/licence-types", headers=auth, json=FOOD_LICENCE_TYPE).status_code == 201
        r = httpx.post(f"{a}/api/v1/licences", headers=auth, json=food_licence_body(), timeout=120)
        assert r.status_code == 201, r.text
        lic = r.json()
        token = lic["verify_url"].rsplit("/v/", 1)[1]
        yield {"a": a, "b": b, "auth": auth, "licence": lic, "token": token, "db": env["CERTSVC_DATABASE_URL"]}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def _scan(base: str, token: str) -> str:
    r = httpx.get(f"{base}/v/{token}", headers=JSON)
    assert r.status_code == 200, r.text
    return r.json()["status"]


def _change(two: dict[str, Any], action: str) -> None:
    r = httpx.post(
        f"{two['a']}/api/v1/licences/{two['licence']['id']}/{action}",
        headers=two["auth"],
        json={"reason": "现场检查发现问题，责令整改 (test)"},
    )
    assert r.status_code == 200, r.text


def _cache_hits(base: str) -> float:
    return sum(
        s.value
        for fam in text_string_to_metric_families(httpx.get(f"{base}/metrics").text)
        for s in fam.samples
        if s.name == "certsvc_public_view_cache_total" and s.labels.get("result") == "hit"
    )


def test_a_suspension_through_one_process_is_the_next_scan_in_the_other(two: dict[str, Any]) -> None:
    hits = _cache_hits(two["b"])
    # read, read and stored (the first read opened the listening connection), served from the cache
    assert [_scan(two["b"], two["token"]) for _ in range(3)] == ["valid"] * 3
    if ON_POSTGRES:  # B holds the page: a stale one would show below
        assert _cache_hits(two["b"]) == hits + 1
    _change(two, "suspend")
    assert _scan(two["b"], two["token"]) == "suspended"
    assert _scan(two["b"], two["token"]) == "suspended"
    _change(two, "resume")
    assert _scan(two["b"], two["token"]) == "valid"


@pytest.mark.skipif(not ON_POSTGRES, reason="the cache and its listening connection exist on PostgreSQL only")
def test_a_lost_listening_connection_turns_the_cache_off_until_it_is_back(two: dict[str, Any]) -> None:
    assert _scan(two["b"], two["token"]) == "valid"
    engine = create_engine(two["db"], isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        cut = c.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'certsvc-view-cache' AND datname = current_database()"
            )
        ).all()
    engine.dispose()
    assert len(cut) >= 1  # B listens (A too once it has served a scan)
    _change(two, "suspend")
    assert _scan(two["b"], two["token"]) == "suspended"
    _change(two, "resume")
    assert _scan(two["b"], two["token"]) == "valid"
    time.sleep(1.2)  # the listening connection is re-opened at most once a second
    hits = _cache_hits(two["b"])
    assert [_scan(two["b"], two["token"]) for _ in range(3)] == ["valid"] * 3
    assert _cache_hits(two["b"]) > hits  # listening again (after at most a second), cached again
