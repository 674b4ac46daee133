"""PAdES B-LT with the service's own TSA and CRLs, checked the way outside software checks it:
pyHanko's AdES validation with only the root trusted, nothing fetched, revocation data required;
``openssl ts`` for the TSA; ``cryptography`` for the CRL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, select

from certsvc.core import clock
from certsvc.db.models import SigningCertificate
from certsvc.keyring import Keyring
from tests.support.ltv import lta, with_time
from tests.support.produced import every_kind
from tests.support.service import Service, make_enterprise

JSON = {"Accept": "application/json"}
PASSED = "AdESPassed.OK"


@pytest.fixture(scope="module")
def root_der(service: Service) -> bytes:
    r = service.client.get("/ca/root.crt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-cert"
    return r.content


@pytest.fixture(scope="module")
def produced(service: Service) -> dict[str, bytes]:
    """One file of every kind the service signs, through its API."""
    return {kind: pdf for kind, (pdf, _about) in every_kind(service, "SQ202612020003").items()}


@pytest.mark.parametrize("kind", ["licence", "receipt", "marked_copy", "enterprise_signed", "counter_signed"])
def test_every_signature_validates_with_time_offline_from_its_own_validation_data(produced, root_der, kind) -> None:
    results = with_time(produced[kind], root_der)
    assert len(results) == (2 if kind in ("marked_copy", "counter_signed") else 1)
    for r in results:
        assert r.indication == PASSED, r
        assert r.timestamp_valid, r  # the signature time comes from the service's TSA, not the signer
        assert r.best_signature_time is not None
        assert abs(r.best_signature_time - datetime.now(UTC)) < timedelta(minutes=10)


def test_without_the_embedded_crl_revocation_cannot_be_established(produced, root_der) -> None:
    (result,) = with_time(produced["licence"], root_der, use_dss=False)
    assert result.indication != PASSED


def test_tsa_answers_an_openssl_query_and_the_reply_verifies_against_the_root(service, root_der, tmp_path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    data = tmp_path / "data.txt"
    data.write_bytes("营业执照 archive".encode())
    query = tmp_path / "q.tsq"
    subprocess.run(["openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query], check=True)
    r = service.client.post("/tsa", content=query.read_bytes(), headers={"Content-Type": "application/timestamp-query"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/timestamp-reply"
    (tmp_path / "r.tsr").write_bytes(r.content)
    (tmp_path / "root.pem").write_bytes(x509.load_der_x509_certificate(root_der).public_bytes(Encoding.PEM))
    verify = ["openssl", "ts", "-verify", "-in", tmp_path / "r.tsr", "-data", data, "-CAfile", tmp_path / "root.pem"]
    ok = subprocess.run(verify, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    data.write_bytes(b"something else")
    assert subprocess.run(verify, capture_output=True, text=True).returncode != 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"junk", "application/timestamp-query", 400),
        (b"\x30\x03\x02\x01\x01", "application/timestamp-query", 400),
        (b"\x30" * 5000, "application/timestamp-query", 413),
        (b"\x30\x00", "application/octet-stream", 400),
    ],
)
def test_tsa_refuses_what_is_not_a_time_stamp_query(service, body, content_type, status) -> None:
    r = service.client.post("/tsa", content=body, headers={"Content-Type": content_type})
    assert r.status_code == status
    assert r.json()["error"]["code"]


def test_tsa_certificate_is_under_the_root_with_only_the_critical_time_stamping_eku(service, root_der) -> None:
    with Session(service.ctx.engine) as s:
        row = s.exec(select(SigningCertificate).where(SigningCertificate.owner_kind == "tsa")).one()
    cert = x509.load_pem_x509_certificate(row.cert_pem.encode())
    root = x509.load_der_x509_certificate(root_der)
    cert.verify_directly_issued_by(root)
    eku = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_crl_is_served_signed_by_the_root_with_cache_headers(service, root_der) -> None:
    r = service.client.get("/crl/root.crl")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-crl"
    assert "max-age" in r.headers["cache-control"] and r.headers["etag"] and r.headers["expires"]
    crl = x509.load_der_x509_crl(r.content)
    assert crl.is_signature_valid(x509.load_der_x509_certificate(root_der).public_key())
    assert crl.next_update_utc is not None and crl.next_update_utc > datetime.now(UTC) + timedelta(days=2)
    assert service.client.get("/crl/root.crl", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert service.client.get("/crl/other.crl").status_code == 404


def test_every_new_certificate_names_the_served_crl_and_its_issuer_certificate(service, produced, root_der) -> None:
    with Session(service.ctx.engine) as s:
        rows = s.exec(select(SigningCertificate).where(SigningCertificate.owner_kind != "root")).all()
    kinds = {r.owner_kind for r in rows}
    assert {"department", "enterprise", "service", "tsa"} <= kinds
    for row in rows:
        cert = x509.load_pem_x509_certificate(row.cert_pem.encode())
        (point,) = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
        crl_url = point.full_name[0].value
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
        (issuer_url,) = [
            a.access_location.value for a in aia if a.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        ]
        assert crl_url == "http://testserver/crl/root.crl" and issuer_url == "http://testserver/ca/root.crt"
        served = service.client.get(issuer_url.removeprefix("http://testserver")).content
        assert served == root_der
        cert.verify_directly_issued_by(x509.load_der_x509_certificate(served))


def test_every_process_serves_the_same_crl_and_reissues_it_before_next_update(service) -> None:
    first = service.client.get("/crl/root.crl").content
    other = Keyring(service.ctx.engine, service.ctx.key_backend, "http://testserver")  # a second process
    with Session(service.ctx.engine) as s:
        assert other.crl(s).der == first
    later = datetime.now(UTC) + timedelta(days=6)  # less than two days before nextUpdate
    with clock.frozen(later):
        renewed = service.client.get("/crl/root.crl").content
    crl, new = x509.load_der_x509_crl(first), x509.load_der_x509_crl(renewed)
    number = x509.oid.ExtensionOID.CRL_NUMBER
    assert (
        new.extensions.get_extension_for_oid(number).value.crl_number
        > crl.extensions.get_extension_for_oid(number).value.crl_number
    )
    assert new.next_update_utc is not None and new.next_update_utc > later + timedelta(days=6)
    with clock.frozen(later), Session(service.ctx.engine) as s:
        assert other.crl(s).der == renewed  # at that time the other process serves the re-issued one too


def _served_entry(service: Service, cert_pem: str) -> x509.RevokedCertificate | None:
    crl = x509.load_der_x509_crl(service.client.get("/crl/root.crl").content)
    return crl.get_revoked_certificate_by_serial_number(x509.load_pem_x509_certificate(cert_pem.encode()).serial_number)


def test_a_revoked_business_licence_puts_the_enterprise_certificate_on_the_crl_at_once(service) -> None:
    ent = make_enterprise(service, "深圳市将被吊销有限公司")
    cert_pem = next(
        e["certificate"]
        for e in service.client.get("/api/v1/trust-list").json()["enterprises"]
        if e["uscc"] == ent.uscc
    )
    assert _served_entry(service, cert_pem) is None
    r = service.client.post(
        f"/api/v1/licences/{ent.business_licence['id']}/revoke",
        headers=service.market.auth,
        json={"reason": "吊销：提交虚假材料"},
    )
    assert r.status_code == 200, r.text
    entry = _served_entry(service, cert_pem)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.cessation_of_operation
    )


def test_after_keys_rotate_revoke_from_the_later_seals_are_revoked_for_pyhanko(service, root_der) -> None:
    """A key compromised from a moment: seals made (and time-stamped) before it still validate
    with the served CRL, seals after it are reported revoked. Runs last: it rotates the health
    department's key."""
    before = service.client.get(service.issue_food()["pdf_url"], headers=service.health.auth).content
    time.sleep(1.2)
    compromised = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(2.2)
    after = service.client.get(service.issue_food()["pdf_url"], headers=service.health.auth).content
    rotate = subprocess.run(
        [
            sys.executable,
            "-m",
            "certsvc.cli",
            "keys",
            "rotate",
            "--department",
            "SZWJ",
            "--revoke-from",
            compromised.isoformat(),
        ],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rotate.returncode == 0, rotate.stderr
    served = service.client.get("/crl/root.crl").content
    with Session(service.ctx.engine) as s:
        old = s.exec(
            select(SigningCertificate)
            .where(SigningCertificate.revoked_from != None)  # noqa: E711
            .where(SigningCertificate.owner_kind == "department")
        ).one()
    entry = _served_entry(service, old.cert_pem)
    assert entry is not None and entry.revocation_date_utc == compromised
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    (ok,) = with_time(before, root_der, crls=[served], use_dss=False)
    assert ok.indication == PASSED, ok
    (revoked,) = with_time(after, root_der, crls=[served], use_dss=False)
    assert "REVOKED" in revoked.indication, revoked
    # the licence's own (older) CRL knows nothing of it: that is why the CRL is served
    assert with_time(after, root_der)[0].indication == PASSED


def _archive(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "archive", "timestamp", *extra],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_archive_timestamp_adds_a_document_time_stamp_that_keeps_the_licence_genuine_and_lta_valid(
    service, root_der
) -> None:
    lic = service.issue_food()
    sealed = service.client.get(lic["pdf_url"], headers=service.health.auth).content
    r = _archive("--before", "0")  # nothing is due yet: fresh CRL, fresh TSA certificate
    assert r.returncode == 0, r.stderr
    assert service.client.get(lic["pdf_url"], headers=service.health.auth).content == sealed
    r = _archive("--before", "30")  # the embedded CRL (7 days) expires within 30 days
    assert r.returncode == 0, r.stderr
    assert "document time-stamps added: 0" not in r.stdout
    archived = service.client.get(lic["pdf_url"], headers=service.health.auth).content
    assert archived.startswith(sealed) and len(archived) > len(sealed)
    (stamp,) = PdfFileReader(BytesIO(archived)).embedded_timestamp_signatures
    assert str(stamp.field_name) == "ArchiveTimeStamp1"
    (result,) = lta(archived, root_der)
    assert result.indication == PASSED, result
    v = service.client.post("/api/v1/verify", files={"file": ("a.pdf", archived, "application/pdf")}).json()
    assert v["verdict"] == "genuine" and v["licence"]["number"] == lic["number"], v["checks"]
    again = _archive("--before", "30")  # archived now: nothing more until the TSA certificate nears expiry
    assert "document time-stamps added: 0" in again.stdout


def test_a_document_time_stamp_by_anyone_else_is_not_accepted_after_the_seal(service, root_der, tmp_path) -> None:
    """The same document time-stamp, but from a TSA that is not the service's: modified after sealing."""
    from keys.ca import Subject, issue_leaf, make_root, to_asn1
    from keys.files import FileKeyBackend
    from signing.ltv import LtvData, archive_timestamp
    from signing.seal_pdf import run_sync
    from signing.tsa import LocalTsa

    backend = FileKeyBackend(tmp_path, b"x")
    other_root = make_root(backend, "other-root", Subject("certsvc 电子证照根证书 Root CA", "certsvc"))
    cert = issue_leaf(backend, "other-root", other_root, "other-tsa", Subject("TSA"), time_stamping=True)
    foreign = LocalTsa(to_asn1(cert), lambda d: backend.sign("other-tsa", d))
    lic = service.issue_food()
    sealed = service.client.get(lic["pdf_url"], headers=service.health.auth).content
    stamped = run_sync(archive_timestamp(sealed, LtvData(foreign)))
    v = service.client.post("/api/v1/verify", files={"file": ("a.pdf", stamped, "application/pdf")}).json()
    assert v["verdict"] == "modified_after_sealing", v["checks"]
    ours = run_sync(archive_timestamp(sealed, service.ctx.keyring.ltv()))
    v = service.client.post("/api/v1/verify", files={"file": ("a.pdf", ours, "application/pdf")}).json()
    assert v["verdict"] == "genuine", v["checks"]


def test_a_document_time_stamp_anyone_can_get_from_the_public_tsa_is_not_accepted_after_the_seal(service) -> None:
    """``POST /tsa`` is public: its tokens (the ordinary policy) never pass for the service's own
    archive time-stamps, so a revision added with one is modified after sealing."""
    from asn1crypto import tsp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko.sign.timestamps import TimeStamper

    from signing.seal_pdf import run_sync

    class PublicTsa(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            r = service.client.post("/tsa", content=req.dump(), headers={"Content-Type": "application/timestamp-query"})
            assert r.status_code == 200, r.text
            return tsp.TimeStampResp.load(r.content)

    lic = service.issue_food()
    sealed = service.client.get(lic["pdf_url"], headers=service.health.auth).content
    stamper = PdfTimeStamper(PublicTsa(include_nonce=False), field_name="ArchiveTimeStamp1")
    stamped = run_sync(stamper.async_timestamp_pdf(IncrementalPdfFileWriter(BytesIO(sealed)), "sha256")).getvalue()
    v = service.client.post("/api/v1/verify", files={"file": ("a.pdf", stamped, "application/pdf")}).json()
    assert v["verdict"] == "modified_after_sealing", v["checks"]
