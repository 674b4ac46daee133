"""``verify_pdf``: the verdict on an uploaded PDF (SPEC "Verification", issue 3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from verify.analysis import MAX_PDF_BYTES, MAX_REVISIONS, MAX_SIGNATURES, analyse_bounded
from verify.policy import DEFAULT_POLICIES, Evidence, Policy, evaluate
from verify.report import (
    AnalysisProblem,
    LaterSignature,
    PdfFindings,
    ProblemKind,
    Report,
    SignerInfo,
    Verdict,
)
from verify.trust import TrustContext
from verify.workers import WorkerPool


def verify_pdf(
    data: bytes,
    trust: TrustContext,
    is_issued: Callable[[str], bool],
    *,
    timeout_s: float = 5.0,
    max_revisions: int = MAX_REVISIONS,
    max_signatures: int = MAX_SIGNATURES,
    pool: WorkerPool | None = None,
    is_report: Callable[[str], bool] | None = None,
) -> Report:
    """Judge ``data``. ``is_issued(sha256_hex)`` says whether we issued a document with that hash;
    ``is_report`` whether it is a verification report under the service's own seal (without it,
    a document sealed by the service's certificate is ``unknown_signer``).

    Never raises for anything in the file; the only exception is
    :class:`~verify.report.VerifierBusy` when no analysis worker frees up (answer 503), and
    whatever ``is_issued`` itself raises. The analysis runs in ``pool`` (default: the process-wide one).
    """
    if len(data) > MAX_PDF_BYTES:
        findings = PdfFindings(
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            problems=(AnalysisProblem(ProblemKind.TOO_LARGE, f"{len(data)} bytes, the limit is {MAX_PDF_BYTES}"),),
        )
    else:
        findings = analyse_bounded(
            data, trust, timeout_s=timeout_s, max_revisions=max_revisions, max_signatures=max_signatures, pool=pool
        )
    return judge(findings, trust, is_issued, is_report=is_report)


def judge(
    findings: PdfFindings,
    trust: TrustContext,
    is_issued: Callable[[str], bool],
    policies: Sequence[Policy] = DEFAULT_POLICIES,
    *,
    now: datetime | None = None,
    is_report: Callable[[str], bool] | None = None,
) -> Report:
    """Apply the policies to findings (separate from :func:`verify_pdf` for tests and the CLI).

    ``now`` is the moment "is the signer's certificate valid now?" is asked about (default: now).
    """
    ev = Evidence(findings, trust, is_issued, is_report)
    verdict, checks = evaluate(ev, policies)
    signer = later = None
    seal = ev.seal
    if seal is not None and not findings.problems:
        entry = ev.entry(seal)
        signer = SignerInfo(
            name=entry.name if entry else seal.signer_cn,
            uscc=entry.uscc if entry else seal.signer_uscc,
            kid=seal.signer_kid,
            owner_kind=entry.owner_kind if entry else None,
            owner_id=entry.owner_id if entry else None,
            field_name=seal.field_name,
            signing_time=seal.signing_time,
        )
        later = tuple(
            LaterSignature(
                field_name=s.field_name,
                kid=s.signer_kid,
                owner_kind=(e.owner_kind if (e := ev.entry(s)) else None),
                signing_time=s.signing_time,
                reason=s.reason,
            )
            for s in ev.later
        )
    signers = _enterprise_signers(ev, now or datetime.now(UTC)) if verdict is Verdict.SIGNED_BY_ENTERPRISE else ()
    return Report(
        verdict=verdict,
        checks=checks,
        findings=findings,
        signer=signer,
        later_signatures=later or (),
        signers=signers,
        sealed_revision_sha256=seal.revision_sha256 if seal is not None else None,
    )


def _enterprise_signers(ev: Evidence, now: datetime) -> tuple[SignerInfo, ...]:
    """Every signer of a ``signed_by_enterprise`` document, in signing order, with whether its
    certificate was valid when it signed and is valid now."""
    out: list[SignerInfo] = []
    for sig in ev.findings.signatures:
        entry = ev.entry(sig)
        assert entry is not None  # the policy accepted only enterprises on the trust list
        out.append(
            SignerInfo(
                name=entry.name,
                uscc=entry.uscc,
                kid=entry.kid,
                owner_kind=entry.owner_kind,
                owner_id=entry.owner_id,
                field_name=sig.field_name,
                signing_time=sig.signing_time,
                certificate_valid_then=sig.trusted and not entry.revoked_at(sig.signing_time),
                certificate_valid_now=entry.valid_at(now),
            )
        )
    return tuple(out)


__all__ = ["Verdict", "judge", "verify_pdf"]
