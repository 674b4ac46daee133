"""In-process baselines, run by the harness in the same run on the same machine.

- **A**: the naive signing path: ``pyhanko.sign.signers.sign_pdf`` with default settings (no
  ``bytes_reserved``, so pyHanko's dry-run size estimate runs; an invisible signature field) in a
  loop over the same unsigned licence PDF certsvc renders, with a ``SimpleSigner`` from a P-256
  key and certificate (``keys.ca`` root → leaf, ``keys.files.FileKeyBackend.pdf_signer``), doing
  the same long-term-validation work as certsvc: a signature time-stamp from an in-process TSA
  (``signing.tsa.LocalTsa``) and the certificates and the root's CRL in the DSS (pyHanko's
  ``embed_validation_info``, PAdES B-LT).
- **A-verify**: the naive verification path: ``validate_pdf_signature`` (default settings, trust
  root = the service's root) in a loop over a genuine licence PDF issued by certsvc.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.load import latency_summary


@dataclass(frozen=True)
class NaiveSigner:
    """What baseline A signs with: a pyHanko signer, a TSA, and the validation context holding the
    root and its CRL (for ``embed_validation_info``)."""

    signer: Any
    timestamper: Any
    validation_context: Any


def make_signer(keys_dir: Path) -> NaiveSigner:
    """A pyHanko ``SimpleSigner`` (P-256 leaf under a P-256 root, keys in encrypted files), a TSA
    under the same root, and the root's CRL, built with the service's own ``keys.ca``."""
    from datetime import UTC, datetime, timedelta

    from asn1crypto import crl as asn1_crl
    from pyhanko_certvalidator import ValidationContext

    from keys.ca import Publication, Subject, build_crl, issue_leaf, make_root, to_asn1
    from keys.files import FileKeyBackend
    from signing.tsa import LocalTsa

    backend = FileKeyBackend(keys_dir, b"bench-baseline")
    root = make_root(backend, "bench-root", Subject("bench Root CA", "bench"))
    publication = Publication("http://127.0.0.1/crl/root.crl", "http://127.0.0.1/ca/root.crt")
    leaf = issue_leaf(
        backend,
        "bench-root",
        root,
        "bench-seal",
        Subject("深圳市卫生健康委员会", "深圳市卫生健康委员会", None, "电子证照专用章"),
        publication=publication,
    )
    tsa_cert = issue_leaf(
        backend, "bench-root", root, "bench-tsa", Subject("bench TSA"), publication=publication, time_stamping=True
    )
    now = datetime.now(UTC)
    crl = build_crl(
        backend,
        "bench-root",
        root,
        [],
        number=1,
        this_update=now - timedelta(minutes=5),
        next_update=now + timedelta(days=7),
    )
    vc = ValidationContext(trust_roots=[to_asn1(root)], crls=[asn1_crl.CertificateList.load(crl)], allow_fetching=False)
    return NaiveSigner(
        backend.pdf_signer("bench-seal", to_asn1(leaf), [to_asn1(leaf), to_asn1(root)]),
        LocalTsa(to_asn1(tsa_cert), lambda data: backend.sign("bench-tsa", data)),
        vc,
    )


def licence_pdf(licence: dict[str, Any], department: dict[str, Any], type_name: str, field_order: list[str]) -> bytes:
    """The unsigned licence PDF certsvc renders for an issued licence (its API record)."""
    from signing.layout import render_licence_pdf
    from signing.models import LicenceDocument
    from signing.seal import seal_code

    doc = LicenceDocument(
        title=type_name,
        number=licence["number"],
        identifier=licence["identifier"],
        holder_name=licence["holder_name"],
        holder_uscc=licence["holder_uscc"],
        holder_label="持证主体",
        fields=[(k, licence["fields"][k]) for k in field_order if k in licence["fields"]],
        valid_from=date.fromisoformat(licence["valid_from"]),
        valid_until=date.fromisoformat(licence["valid_until"]) if licence.get("valid_until") else None,
        issuer_name=department["name"],
        issue_date=date.today(),
        version=int(licence["version"]),
        qr_text=licence["verify_url"],
        seal_name=department["name"],
        seal_code=seal_code(department["uscc"], int(department.get("id") or 1)),
    )
    return render_licence_pdf(doc)


def _timed(once: Callable[[], Any], *, n: int, max_seconds: float) -> tuple[list[float], float, float, Any, bool]:
    """Call ``once`` up to ``n`` times within ``max_seconds``.

    Returns per-call ms, wall seconds, CPU seconds, the last result, and whether every result was truthy.
    """
    ms: list[float] = []
    last: Any = None
    all_true = True
    start, cpu0 = time.perf_counter(), time.process_time()
    deadline = start + max_seconds
    while len(ms) < n and time.perf_counter() < deadline:
        t0 = time.perf_counter()
        last = once()
        ms.append((time.perf_counter() - t0) * 1000)
        all_true = all_true and bool(last)
    return ms, time.perf_counter() - start, time.process_time() - cpu0, last, all_true


def baseline_a(pdf: bytes, naive: NaiveSigner, *, n: int, max_seconds: float) -> dict[str, Any]:
    """Licences per second of the plain pyHanko ``sign_pdf`` loop (one process, one core), with a
    signature time-stamp and the validation data in the DSS (B-LT), as certsvc makes them."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    def once() -> bytes:
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name="Signature",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            validation_context=naive.validation_context,
        )
        return signers.sign_pdf(w, meta, signer=naive.signer, timestamper=naive.timestamper).getvalue()

    out = once()  # warm-up (imports, caches), not counted
    ms, secs, cpu, last, _ = _timed(once, n=n, max_seconds=max_seconds)
    out = last if ms else out
    return {
        "what": "pyhanko.sign.signers.sign_pdf, PdfSignatureMetadata(field_name='Signature', PAdES, "
        "embed_validation_info) with an in-process TSA: B-LT; SimpleSigner P-256, same unsigned licence PDF, "
        "one process",
        "licences_per_s": len(ms) / secs,
        "seconds": secs,
        "cpu_ms_per_item": 1000 * cpu / len(ms),
        "unsigned_pdf_bytes": len(pdf),
        "signed_pdf_bytes": len(out),
        **latency_summary(ms),
    }


def baseline_verify(pdf: bytes, root_pem: str, *, n: int, max_seconds: float) -> dict[str, Any]:
    """Verifications per second of plain pyHanko ``validate_pdf_signature`` (one process)."""
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, _, der = pem.unarmor(root_pem.encode())
    root = x509.Certificate.load(der)

    def once() -> bool:
        reader = PdfFileReader(io.BytesIO(pdf))
        sig = reader.embedded_signatures[0]
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=[root]))
        return bool(status.bottom_line)

    ok = once()
    ms, secs, cpu, _, all_ok = _timed(once, n=n, max_seconds=max_seconds)
    ok = ok and all_ok
    return {
        "what": "pyhanko.sign.validation.validate_pdf_signature (default settings, service root trusted), "
        "same genuine licence PDF, one process",
        "verifications_per_s": len(ms) / secs,
        "bottom_line": ok,
        "seconds": secs,
        "cpu_ms_per_item": 1000 * cpu / len(ms),
        **latency_summary(ms),
    }
