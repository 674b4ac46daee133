"""Every real attacked or malformed signed PDF gets a verdict that is not genuine: no 5xx, no hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.paths import ROBUSTNESS_CORPUS as CORPUS
from tests.support.paths import robustness_files

FILES = robustness_files()


@pytest.mark.skipif(not FILES, reason=f"robustness corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_hostile_pdf_gets_a_verdict_that_is_not_genuine(service, path: Path) -> None:
    started = time.monotonic()
    r = service.client.post("/api/v1/verify", files={"file": (path.name, path.read_bytes(), "application/pdf")})
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] != "genuine"
    assert body["checks"] and not all(c["ok"] for c in body["checks"])
    assert elapsed < 5.0, f"{path.name} took {elapsed:.1f} s"
