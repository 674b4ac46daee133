"""`certsvc keys rotate`: new licences use the new key, old ones still verify; a compromised key
marked revoked from a date makes its later signatures not genuine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from sqlmodel import Session, select

from certsvc.db.models import SigningCertificate
from keys.ca import uscc_of
from signing.payload import Claims, sign_claims
from tests.support.standalone import standalone_service


def rotate(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "keys", "rotate", "--department", "SZWJ", *extra],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _verify(svc, pdf: bytes) -> dict:
    return svc.client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")}).json()


def _kids(svc) -> list[SigningCertificate]:
    with Session(svc.ctx.engine) as s:
        return list(s.exec(select(SigningCertificate).where(SigningCertificate.owner_kind == "department")))


def test_rotation_keeps_old_licences_genuine_and_seals_new_ones_with_the_new_key(tmp_path) -> None:
    with standalone_service(tmp_path) as svc:
        old = svc.issue()
        old_pdf = svc.pdf(old)
        r = rotate()
        assert r.returncode == 0, r.stderr
        certs = _kids(svc)
        assert len(certs) == 2 and [c.active for c in certs] == [False, True]
        new = svc.issue()
        assert _verify(svc, svc.pdf(new))["signer"]["kid"] == certs[1].kid
        body = _verify(svc, old_pdf)
        assert body["verdict"] == "genuine" and body["signer"]["kid"] == certs[0].kid
        trust = svc.client.get("/api/v1/trust-list").json()
        assert {certs[0].kid, certs[1].kid} <= {i["kid"] for i in trust["issuers"]}


def test_compromised_key_signatures_after_the_revocation_date_are_not_genuine(tmp_path) -> None:
    with standalone_service(tmp_path) as svc:
        before = svc.pdf(svc.issue())
        certs = _kids(svc)
        revoked_from = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        r = rotate("--revoke-from", revoked_from)
        assert r.returncode == 0, r.stderr
        assert "compromised" in r.stdout
        assert _verify(svc, before)["verdict"] == "genuine"  # sealed before the compromise
        # An attacker holding the old key seals a copy of a real licence after the date.
        time.sleep(1.5)
        with Session(svc.ctx.engine) as s:
            old_info = svc.ctx.keyring.by_kid(s, certs[0].kid)
        forged = signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(before)),
            signers.PdfSignatureMetadata(field_name="Forged"),
            signer=svc.ctx.keyring.signer(old_info),
        ).getvalue()
        assert _verify(svc, forged)["verdict"] != "genuine"
        trust = svc.client.get("/api/v1/trust-list").json()
        entry = next(i for i in trust["issuers"] if i["kid"] == certs[0].kid)
        assert entry["revoked_from"]
        # ...and a QR payload it signs for a licence taking effect after the date fails offline too.
        claims = Claims(
            "L",
            "1.2.156.3005.2.X",
            None,
            "SPJY",
            date.today() + timedelta(days=2),
            None,
            1,
            b"",
            None,
            issuer=uscc_of(old_info.cert),  # the department whose (compromised) key signs it
            issued_at=int(time.time()),
        )
        token = sign_claims(claims, bytes.fromhex(old_info.kid), lambda d: svc.ctx.keyring.sign_raw(old_info, d))
        qr = svc.client.post("/api/v1/verify/qr", json={"text": f"http://testserver/v/{token}"}).json()
        assert qr["verdict"] == "signature_invalid"
        assert any(c["name"] == "signer_not_revoked" and not c["ok"] for c in qr["checks"])
