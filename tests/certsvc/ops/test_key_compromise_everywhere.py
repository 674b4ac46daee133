"""Key compromise everywhere: after `certsvc keys rotate --revoke-from T`, a licence sealed after T
is ``signature_invalid`` on its QR page (/v/), on the holder's page (/e/), on /verify, /verify/qr
and offline alike."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import answer, run_verify
from tests.support.standalone import Standalone, standalone_service

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def compromised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Standalone, dict, bytes]]:
    """A licence sealed a minute after the moment its key is then declared compromised from."""
    with standalone_service(tmp_path_factory.mktemp("compromise")) as svc:
        since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        lic = svc.issue()
        pdf = svc.pdf(lic)
        r = subprocess.run(
            [sys.executable, "-m", "certsvc.cli", "keys", "rotate", "--department", "SZWJ", "--revoke-from", since],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        yield svc, lic, pdf


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def test_v_and_verify_agree_after_revoke_from(compromised) -> None:
    svc, lic, pdf = compromised
    verdict = svc.client.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")}).json()["verdict"]
    page = svc.client.get(_path(lic["verify_url"]), headers=JSON).json()
    assert verdict == "signature_invalid"
    assert page["genuine"] is False and page["verdict"] == verdict
    assert "revoked" in page["seal_problem"]


def test_v_page_does_not_say_valid_after_revoke_from(compromised) -> None:
    svc, lic, _pdf = compromised
    html = svc.client.get(_path(lic["verify_url"])).text
    assert 'data-verdict="signature_invalid"' in html and "签章无效" in html
    assert '<span class="big">有效</span>' not in html


def test_qr_verify_agrees_after_revoke_from(compromised) -> None:
    svc, lic, _pdf = compromised
    body = svc.client.post("/api/v1/verify/qr", json={"text": lic["verify_url"]}).json()
    assert body["verdict"] == "signature_invalid"
    assert [c["ok"] for c in body["checks"] if c["name"] == "signer_not_revoked"] == [False]


def test_e_page_lists_the_licence_as_not_current_after_revoke_from(compromised) -> None:
    svc, lic, _pdf = compromised
    page = svc.client.get(f"/e/{lic['holder_uscc']}", headers=JSON).json()
    [other] = page["items"]
    assert other["current"] is False
    assert other["genuine"] is False and other["verdict"] == "signature_invalid"


def test_offline_verifier_and_trust_list_agree_after_revoke_from(compromised, tmp_path: Path) -> None:
    svc, _lic, pdf = compromised
    trust = svc.client.get("/api/v1/trust-list")
    assert any(i.get("revoked_from") for i in trust.json()["issuers"])
    (tmp_path / "trust-list.json").write_text(trust.text, encoding="utf-8")
    (tmp_path / "status-list.json").write_text(svc.client.get("/api/v1/status-list").text, encoding="utf-8")
    (tmp_path / "l.pdf").write_bytes(pdf)
    r = run_verify("l.pdf", "--offline", "--json", cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert answer(r)["verdict"] == "signature_invalid"
