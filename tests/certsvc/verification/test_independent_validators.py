"""Independent validators agree with ours on every kind of file the service produces: pyHanko
(behind the service's verdict), poppler's ``pdfsig`` and MuPDF's ``mutool sign -v``.

Trust: ``pdfsig`` checks certificates against an NSS database; the service's root is imported
into a fresh one with ``certutil`` (trust ``CT,C,C``) and passed with ``-nssdir``, so "Certificate
is Trusted" really means "chains to our root" (``-nocert`` would skip that question). ``mutool``
has no trust store option: it always reports our self-signed root as "Self-signed certificate in
chain", and any other certificate error fails the test; its digest check is the signature verdict.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from tests.support.pdfcheck import validation_context
from tests.support.produced import every_kind
from tests.support.service import Service

TOOLS = ("pdfsig", "mutool", "certutil")
JSON = {"Accept": "application/json"}
KINDS = {  # kind → the service's verdict on it
    "licence": "genuine",
    "business_licence": "genuine",
    "marked_copy": "genuine",
    "receipt": "genuine",
    "enterprise_signed": "signed_by_enterprise",
    "counter_signed": "signed_by_enterprise",
}

pytestmark = [
    pytest.mark.files,
    pytest.mark.skipif(
        any(shutil.which(t) is None for t in TOOLS),
        reason="needs poppler-utils, mupdf-tools and libnss3-tools (scripts/bootstrap.sh --system)",
    ),
]


@pytest.fixture(scope="module")
def produced(service: Service) -> dict[str, bytes]:
    """One file of every kind the service makes, through its API."""
    return {kind: pdf for kind, (pdf, _about) in every_kind(service, "SQ202612020002").items()}


@pytest.fixture(scope="module")
def nss_db(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An NSS database that trusts the service's root, and nothing else."""
    d = tmp_path_factory.mktemp("nss")
    root = d / "root.pem"
    root.write_text(service.client.get("/api/v1/trust-list").json()["root"], encoding="utf-8")
    subprocess.run(["certutil", "-N", "-d", f"sql:{d}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{d}", "-n", "certsvc-root", "-t", "CT,C,C", "-i", str(root)],
        check=True,
        capture_output=True,
    )
    yield f"sql:{d}"


def _pyhanko(service: Service, pdf: bytes) -> dict[str, bool]:
    reader = PdfFileReader(BytesIO(pdf))
    return {
        str(sig.field_name): bool(validate_pdf_signature(sig, validation_context(service.ctx)).bottom_line)
        for sig in reader.embedded_signatures
    }


def _pdfsig(path: Path, nss: str) -> dict[str, bool]:
    """Signed fields → valid and trusted, as poppler says (unsigned fields have no validation line)."""
    out = subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, timeout=60).stdout
    result: dict[str, bool] = {}
    for block in re.split(r"^Signature #\d+:$", out, flags=re.M)[1:]:
        name = re.search(r"Signature Field Name: (.*)$", block, re.M)
        validation = re.search(r"Signature Validation: (.*)$", block, re.M)
        if name and validation:
            trusted = re.search(r"Certificate Validation: (.*)$", block, re.M)
            result[name.group(1).strip()] = (
                validation.group(1).strip() == "Signature is Valid."
                and trusted is not None
                and trusted.group(1).strip() == "Certificate is Trusted."
            )
    return result


def _mutool(path: Path) -> list[tuple[str, bool]]:
    """Each signed signature → (signer CN, valid) as MuPDF says."""
    out = subprocess.run(["mutool", "sign", "-v", str(path)], capture_output=True, text=True, timeout=60)
    result: list[tuple[str, bool]] = []
    for block in re.split(r"^Verifying signature \d+:$", out.stdout, flags=re.M)[1:]:
        if "Signature is not signed." in block:
            continue  # an empty field reserved for a later signature
        cn = re.search(r"Distinguished name: cn=([^,]*)", block)
        cert = re.search(r"Certificate error: (.*)$", block, re.M)
        cert_ok = cert is None or cert.group(1).strip() == "Self-signed certificate in chain."
        digest_ok = "Digest error" not in block and (
            "The document is unchanged since signing." in block
            or "The signature is valid but there have been edits since signing." in block
        )
        result.append((cn.group(1) if cn else "", cert_ok and digest_ok))
    return result


@pytest.mark.parametrize("kind", list(KINDS))
def test_pyhanko_pdfsig_and_mutool_agree_every_signature_is_valid(service, produced, nss_db, tmp_path, kind) -> None:
    pdf = produced[kind]
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(pdf)
    verdict = service.client.post("/api/v1/verify", files={"file": (path.name, pdf, "application/pdf")}).json()
    assert verdict["verdict"] == KINDS[kind], verdict["checks"]
    ours = _pyhanko(service, pdf)
    poppler = _pdfsig(path, nss_db)
    mupdf = _mutool(path)
    assert ours and all(ours.values()), ours
    assert poppler == ours, f"pdfsig {poppler} vs pyHanko {ours}"
    assert len(mupdf) == len(ours) and all(ok for _cn, ok in mupdf), mupdf


def test_all_three_see_a_changed_byte_inside_the_seal(service, produced, nss_db, tmp_path) -> None:
    """The harness can fail: one byte of page content changed under the seal, and all three say so."""
    pdf = bytearray(produced["receipt"])
    at = pdf.index(b"stream\n", len(pdf) // 4) + 20  # inside a content or font stream, within the signed range
    pdf[at] ^= 0x01
    path = tmp_path / "changed.pdf"
    path.write_bytes(bytes(pdf))
    assert not any(_pyhanko(service, bytes(pdf)).values())
    assert _pdfsig(path, nss_db) == {"DeptSeal": False}
    assert [ok for _cn, ok in _mutool(path)] == [False]
