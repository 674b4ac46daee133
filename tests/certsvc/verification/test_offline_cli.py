"""`certsvc verify FILE --offline`: only the trust list and the signed status list are used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # No CERTSVC_* database or data dir: the offline verifier must not need the service.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTSVC_")}
    env["CERTSVC_DATA_DIR"] = str(cwd / "nowhere")
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "verify", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _lists(service, tmp_path: Path) -> None:
    (tmp_path / "trust-list.json").write_text(service.client.get("/api/v1/trust-list").text, encoding="utf-8")
    (tmp_path / "status-list.json").write_text(service.client.get("/api/v1/status-list").text, encoding="utf-8")


def test_offline_verification_of_a_genuine_licence(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content)
    _lists(service, tmp_path)
    r = _run(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["verdict"] == "genuine" and out["offline"] is True
    assert out["licence"]["status"] == "valid" and out["licence"]["identifier"] == lic["identifier"]
    assert not (tmp_path / "nowhere").exists()


def test_offline_verification_sees_a_suspension_in_the_status_list(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content)
    service.client.post(f"/api/v1/licences/{lic['id']}/suspend", headers=service.health.auth, json={"reason": "整改"})
    _lists(service, tmp_path)
    r = _run(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 1
    assert json.loads(r.stdout)["licence"]["status"] == "suspended"


def test_offline_verification_of_a_tampered_file(service, issue_food, tmp_path) -> None:
    lic = issue_food()
    pdf = tmp_path / "licence.pdf"
    data = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content
    pdf.write_bytes(data + b"\n%tampered\n")
    _lists(service, tmp_path)
    r = _run(str(pdf), "--offline", cwd=tmp_path)
    assert r.returncode == 1
    assert json.loads(r.stdout)["verdict"] == "modified_after_sealing"


def test_offline_verification_without_a_trust_list_says_so(tmp_path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.7")
    r = _run(str(tmp_path / "x.pdf"), "--offline", cwd=tmp_path)
    assert r.returncode == 2 and "trust list" in r.stderr
