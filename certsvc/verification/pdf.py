"""Verification as the service answers it: the PDF verdict from ``verify`` plus what the
database knows (the licence's status now, the grant a marked copy was made for)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from certsvc.capacity import Caller
from certsvc.context import Context
from certsvc.core.config import get_settings
from certsvc.db.models import Grant, Receipt
from certsvc.db.work import VerificationReport
from certsvc.errors import Unavailable
from certsvc.licences.lookup import public_view_by_sha
from certsvc.metrics import VERIFICATIONS, VERIFY_PATHS
from certsvc.sharing.copies import GRANT_REASON_PREFIX
from certsvc.sharing.grants import grant_state
from certsvc.verification.answer_text import EXIT_USAGE, describe, exit_code
from certsvc.verification.recorded import record_findings, recorded_findings, sha256_of, worth_recording
from certsvc.verification.report_records import report_of_sha, report_ref
from certsvc.verification.trust import trust_for, trust_version
from signing.pipeline import MARK_FIELDS
from verify.analysis import MAX_PDF_BYTES
from verify.offline import StatusListInput, TrustListError, load_status_list, load_trust_list, verify_offline
from verify.report import Report, Verdict, VerifierBusy
from verify.trust import OwnerKind
from verify.verifier import judge, verify_pdf
from verify.words import bilingual


class _IssuedHere:
    """What the database holds for a sealed revision's SHA-256: asked by the verdict policy
    ("issued here?") and again for the answer, with one query each way."""

    def __init__(self, s: Session, base_url: str, at: datetime | None = None) -> None:
        self.s = s
        self.base_url = base_url
        self.at = at
        self._licences: dict[str, dict[str, Any] | None] = {}
        self._receipts: dict[str, Receipt | None] = {}
        self._reports: dict[str, VerificationReport | None] = {}

    def licence(self, sha256: str) -> dict[str, Any] | None:
        if sha256 not in self._licences:
            found = public_view_by_sha(self.s.connection(), sha256, self.base_url, self.at)
            self._licences[sha256] = found[1] if found else None
        return self._licences[sha256]

    def receipt(self, sha256: str) -> Receipt | None:
        if sha256 not in self._receipts:
            self._receipts[sha256] = self.s.exec(select(Receipt).where(Receipt.pdf_sha256 == sha256)).first()
        return self._receipts[sha256]

    def report(self, sha256: str) -> VerificationReport | None:
        if sha256 not in self._reports:
            self._reports[sha256] = report_of_sha(self.s, sha256)
        return self._reports[sha256]

    def is_report(self, sha256: str) -> bool:
        """Whether a document under the service's own seal is a verification report it made."""
        return self.report(sha256) is not None

    def __call__(self, sha256: str) -> bool:
        return self.licence(sha256) is not None or self.receipt(sha256) is not None


def grant_view(g: Grant) -> dict[str, Any]:
    """The grant a marked copy was made under, as a verifier sees it."""
    state = grant_state(g)
    return {
        "id": g.id,
        "grantee_name": g.grantee_name,
        "purpose": g.purpose,
        "expires_at": g.expires_at.isoformat(),
        "active": state == "active",
        "state": state,
    }


def _grant_of(report: Report) -> str | None:
    """The grant named in the signed /Reason of the service's mark signature, if any.

    The reason comes back from the analysis worker with the findings; the file is not parsed here.
    """
    for ls in report.later_signatures:
        reason = ls.reason or ""
        if (
            ls.owner_kind == OwnerKind.SERVICE
            and ls.field_name in MARK_FIELDS
            and reason.startswith(GRANT_REASON_PREFIX)
        ):
            return reason[len(GRANT_REASON_PREFIX) :]
    return None


def _report_body(s: Session, here: _IssuedHere, report: Report) -> dict[str, Any]:
    body = report.to_dict()
    sha = report.sealed_revision_sha256
    if sha and report.verdict is not Verdict.SIGNED_BY_ENTERPRISE:  # an enterprise's paper is never a licence
        lic = here.licence(sha)
        rec = None if lic else here.receipt(sha)
        rep = here.report(sha) if report.signer and report.signer.owner_kind == OwnerKind.SERVICE else None
        if rep:  # a verification report this service sealed: about a file, not a licence itself
            body["report"] = report_ref(rep)
        elif lic:
            body["licence"] = lic
        elif rec:
            body["receipt"] = {
                "id": rec.id,
                "application_number": rec.application_number,
                "matter": rec.matter,
                "issued_at": rec.issued_at.isoformat(),
                "verify_url": f"{here.base_url}/r/{rec.qr_payload}",
            }
    if report.genuine:
        grant_id = _grant_of(report)
        g = s.get(Grant, grant_id) if grant_id else None
        if g is not None:
            body["grant"] = grant_view(g)
    return body


def _answer(ctx: Context, data: bytes, at: datetime | None, fast: bool, *, full: bool) -> dict[str, Any] | None:
    """The answer for ``data``: from recorded findings when ``fast`` and there are any, else (with
    ``full``) from the full analysis, whose findings are recorded if the service produced the file.
    None when ``full`` is false and nothing is recorded."""
    sha = sha256_of(data) if fast else ""
    with Session(ctx.engine) as s:
        version = trust_version(s.connection())
        trust = trust_for(ctx.engine, s.connection(), version)
        here = _IssuedHere(s, ctx.settings.public_base_url, at)
        findings = recorded_findings(s, sha, version, trust) if fast else None
        if findings is not None:
            report = judge(findings, trust, here, is_report=here.is_report)
            VERIFY_PATHS.labels("fast").inc()
        elif not full:
            return None
        else:
            try:
                report = verify_pdf(
                    data,
                    trust,
                    here,
                    timeout_s=ctx.settings.verify_timeout_s,
                    pool=ctx.capacity.pool,
                    is_report=here.is_report,
                )
            except VerifierBusy as e:
                raise Unavailable(e.diagnostics()) from e
            VERIFY_PATHS.labels("full").inc()
            stored = report.findings is not None and here(report.findings.sha256)
            if fast and report.findings is not None and worth_recording(report, stored):
                body = _report_body(s, here, report)
                record_findings(s, report.findings, version)
                VERIFICATIONS.labels("pdf", report.verdict.value).inc()
                return bilingual(body)
        VERIFICATIONS.labels("pdf", report.verdict.value).inc()
        return bilingual(_report_body(s, here, report))


def verify_bytes(ctx: Context, data: bytes, at: datetime | None = None, *, fast: bool | None = None) -> dict[str, Any]:
    """Verify a PDF against this service's trust and records (blocking: call it from a thread); the
    licence's status now, or as of ``at``. ``fast`` (default: the ``verify_fast_path`` setting)
    answers a file the service produced from its recorded findings (:mod:`certsvc.verification.recorded`)."""
    use = ctx.settings.verify_fast_path if fast is None else fast
    answer = _answer(ctx, data, at, use, full=True)
    assert answer is not None
    return answer


async def verify_upload(ctx: Context, data: bytes, caller: Caller, at: datetime | None = None) -> dict[str, Any]:
    """Verify an uploaded PDF. A file the service produced and analysed before is judged from its
    recorded findings in a thread, within the caller's per-address limits; anything else in an
    analysis worker, once ``caller`` is admitted to one (429 or 503 with ``Retry-After`` if not: see
    :mod:`certsvc.capacity`); the event loop never parses it. The licence's status now, or as of ``at``."""
    if ctx.settings.verify_fast_path and len(data) <= MAX_PDF_BYTES:
        return await ctx.capacity.run_unless(caller, _recorded_answer, verify_bytes, ctx, data, at)
    return await ctx.capacity.run(caller, verify_bytes, ctx, data, at)


def _recorded_answer(ctx: Context, data: bytes, at: datetime | None) -> dict[str, Any] | None:
    return _answer(ctx, data, at, True, full=False)


def verify_file_cli(
    path: Path,
    *,
    offline: bool = False,
    trust_list: Path | None = None,
    status_list: Path | None = None,
    as_json: bool = False,
    at: datetime | None = None,
) -> int:
    """``certsvc verify FILE``: print the answer (in words, or JSON) and return the exit code of
    :mod:`certsvc.verification.answer_text` (0 only for a genuine licence that is valid)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        print(f"error: cannot read {path}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if offline and at is not None:
        print(
            "error: --at answers from the service's recorded history; it needs the service (not --offline)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if offline:
        tl_path = trust_list or Path("trust-list.json")
        sl_path = status_list or Path("status-list.json")
        sl: StatusListInput | None
        try:
            sl = load_status_list(sl_path) if sl_path.exists() else None
        except (OSError, ValueError):
            sl = {}  # unreadable: the verifier says the status is unknown, and why
        try:
            tl = load_trust_list(tl_path)
        except OSError as e:
            print(f"error: offline verification needs the trust list ({tl_path}): {e.strerror}", file=sys.stderr)
            return EXIT_USAGE
        except ValueError as e:
            print(f"error: the trust list ({tl_path}) is not JSON: {e}", file=sys.stderr)
            return EXIT_USAGE
        except TrustListError as e:
            print(f"error: {e.diagnostics()} Nothing can be verified with it.", file=sys.stderr)
            return EXIT_USAGE
        try:
            result = verify_offline(data, tl, sl)
        except TrustListError as e:
            print(f"error: {e.diagnostics()} Nothing can be verified with it.", file=sys.stderr)
            return EXIT_USAGE
    else:
        ctx = Context(get_settings())
        result = verify_bytes(ctx, data, at, fast=False)  # a command that reads writes nothing
    if as_json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(describe(result))
    return exit_code(result)
