"""The pyHanko part: read a PDF, validate every embedded signature, describe every later revision.

:func:`analyse` records facts and never judges (that is :mod:`verify.policy`) and never raises:
whatever goes wrong in a hostile file becomes an :class:`~verify.report.AnalysisProblem` or a
signature finding with an ``error``. Difference analysis always runs; there is no retry with it
switched off.

:func:`analyse_bounded` runs :func:`analyse` in a worker process that is killed when it overruns.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from datetime import UTC, datetime
from io import BytesIO
from itertools import islice
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DiffResult,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    GenericFieldModificationRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    SuspiciousModification,
    XrefStreamRule,
)
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from keys.ca import kid_of, uscc_of
from signing.tsa import ARCHIVE_POLICY
from verify.report import (
    REASON_MAX,
    SHOWN_MAX,
    AnalysisProblem,
    Coverage,
    PdfFindings,
    ProblemKind,
    RevisionChange,
    SignatureFinding,
    quoted,
)
from verify.report import ModificationLevel as ReportedLevel
from verify.structure import RevisionSummary, compare, rewritten_objects, summarise
from verify.trust import TrustContext, as_utc
from verify.workers import JobFailed, JobTimeout, WorkerCrashed, WorkerPool, default_pool

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_REVISIONS = 20
MAX_SIGNATURES = 10
_MSG_MAX = 300

log = logging.getLogger(__name__)

# pyHanko's default policy with one change: a new *visible* signature field after a certification
# signature is accepted (pyHanko is stricter than Acrobat here, see SigFieldCreationRule). That is
# exactly what the service's marked copy (加注件) adds; the structural comparison and the policy
# then make sure nothing but such signatures was added.
DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(allow_new_visible_after_certify=True),
            SigFieldModificationRule(),
            GenericFieldModificationRule(),
        ],
    ),
)

_COVERAGE: dict[SignatureCoverageLevel | None, Coverage] = {
    SignatureCoverageLevel.ENTIRE_FILE: Coverage.ENTIRE_FILE,
    SignatureCoverageLevel.ENTIRE_REVISION: Coverage.ENTIRE_REVISION,
}


# A quoted name in pyHanko's words (a field name, from the file) longer than a sentence shows.
_LONG = SHOWN_MAX + 1
_LONG_QUOTED = re.compile(f"'([^']{{{_LONG},}})(?:'|$)|\"([^\"]{{{_LONG},}})(?:\"|$)")


def _short(e: BaseException) -> str:
    """An error's first line in at most ``_MSG_MAX`` characters, the names it quotes cut as sentences show them."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if not text:
        return type(e).__name__
    text = f"{type(e).__name__}: {text}"[:_MSG_MAX]
    return _LONG_QUOTED.sub(lambda m: quoted(m.group(1) or m.group(2)), text)


def analyse(
    data: bytes,
    trust: TrustContext,
    *,
    max_revisions: int = MAX_REVISIONS,
    max_signatures: int = MAX_SIGNATURES,
) -> PdfFindings:
    """Examine ``data`` and return what was found. Never raises (bar interpreter exit)."""
    started = time.perf_counter()
    size, sha = len(data), hashlib.sha256(data).hexdigest()

    def problem(kind: ProblemKind, detail: str, **kw: Any) -> PdfFindings:
        return PdfFindings(
            size=size,
            sha256=sha,
            problems=(AnalysisProblem(kind, detail),),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            **kw,
        )

    if size > MAX_PDF_BYTES:
        return problem(ProblemKind.TOO_LARGE, f"{size} bytes, the limit is {MAX_PDF_BYTES}")
    if b"%PDF-" not in data[:1024]:
        return problem(ProblemKind.NOT_PDF, "no %PDF- header in the first 1024 bytes")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return problem(ProblemKind.ENCRYPTED, "the file has an /Encrypt dictionary")
        revisions = reader.xrefs.total_revisions
        if revisions > max_revisions:
            return problem(
                ProblemKind.LIMIT,
                f"{revisions} revisions, at most {max_revisions} are examined",
                revisions=revisions,
            )
        fields = list(islice(enumerate_sig_fields(reader, filled_status=True), max_signatures + 1))
        if len(fields) > max_signatures:
            return problem(ProblemKind.LIMIT, f"more than {max_signatures} signatures", revisions=revisions)
        signatures = asyncio.run(_signatures(reader, fields, trust, data))
        changes = _changes(reader, signatures, revisions)
    except Exception as e:  # hostile input: every failure is a finding
        log.debug("PDF analysis failed", exc_info=True)
        return problem(ProblemKind.PARSE, _short(e))
    return PdfFindings(
        size=size,
        sha256=sha,
        revisions=revisions,
        signatures=tuple(signatures),
        changes=tuple(changes),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


async def _signatures(
    reader: PdfFileReader,
    fields: list[tuple[str, generic.IndirectObject, generic.DictionaryObject]],
    trust: TrustContext,
    data: bytes,
) -> list[SignatureFinding]:
    out: list[SignatureFinding] = []
    for fq_name, sig_obj_ref, sig_field in fields:
        revision = _revision_of(reader, sig_obj_ref)
        try:
            emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
        except Exception as e:
            out.append(SignatureFinding(field_name=str(fq_name), signed_revision=revision, error=_short(e)))
            continue
        out.append(await _one(emb, trust, data))
    # Signing order; unreadable signatures with no known revision sort first (they break the seal).
    out.sort(key=lambda f: -1 if f.signed_revision is None else f.signed_revision)
    return out


def _revision_of(reader: PdfFileReader, ref: object) -> int | None:
    try:
        if isinstance(ref, generic.IndirectObject):
            return reader.xrefs.get_last_change(ref.reference)
    except Exception:  # noqa: S110 - best effort, only used for ordering
        pass
    return None


def _reason(emb: EmbeddedPdfSignature) -> str | None:
    """The signature dictionary's /Reason (inside the signed byte range), bounded; None if absent."""
    try:
        reason = emb.sig_object["/Reason"]  # dereferenced; KeyError when absent
    except Exception:
        return None
    return str(reason)[:REASON_MAX] if isinstance(reason, str) else None


def _signer_facts(der: bytes, trust: TrustContext) -> dict[str, Any]:
    facts: dict[str, Any] = {"signer_kid": kid_of(der)}
    entry = trust.by_cert_der(der)
    if entry is not None:
        facts.update(signer_cn=entry.name, signer_uscc=entry.uscc, owner_kind=entry.owner_kind)
    try:
        cert = x509.load_der_x509_certificate(der)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        facts["signer_cn"] = str(cns[0].value) if cns else facts.get("signer_cn")
        facts["signer_uscc"] = uscc_of(cert)
    except Exception:  # noqa: S110 - foreign certificates may not parse; kid is enough
        pass
    return facts


async def _one(emb: EmbeddedPdfSignature, trust: TrustContext, data: bytes) -> SignatureFinding:
    # str(): pyHanko's TextStringObject would drag the whole reader along when pickled.
    base: dict[str, Any] = {  # SignatureFinding's keyword arguments
        "field_name": str(emb.field_name),
        "signed_revision": int(emb.signed_revision),
        "reason": _reason(emb),
    }
    try:
        base.update(_signer_facts(emb.signer_cert.dump(), trust))
    except Exception as e:
        return SignatureFinding(**base, error=_short(e))
    if emb.sig_object_type == "/DocTimeStamp":
        return await _document_timestamp(emb, trust, data, base)
    try:
        claimed = emb.self_reported_timestamp
    except Exception:
        claimed = None
    # Judge the chain at the (self-reported) signing time, so that expired seal certificates do
    # not invalidate old licences; a claim in the future is not believed.
    claimed = as_utc(claimed)  # PDF dates without a zone: read as UTC
    moment = claimed if claimed is not None and claimed <= datetime.now(UTC) else None
    try:
        status = await async_validate_pdf_signature(emb, trust.validation_context(moment), diff_policy=DIFF_POLICY)
    except Exception as e:
        return SignatureFinding(**base, signing_time=claimed, error=_short(e))

    coverage = _COVERAGE.get(status.coverage, Coverage.PARTIAL)
    diff = status.diff_result
    changed: tuple[str, ...] = ()
    diff_problem = None
    if isinstance(diff, DiffResult):
        changed = tuple(sorted(diff.changed_form_fields))
    elif isinstance(diff, SuspiciousModification):
        diff_problem = _short(diff)
    level = status.modification_level
    revision_end = sha = None
    if coverage is not Coverage.PARTIAL:
        br = emb.byte_range
        revision_end = int(br[2]) + int(br[3])
        sha = hashlib.sha256(data[:revision_end]).hexdigest()
    docmdp = emb.docmdp_level
    return SignatureFinding(
        **base,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        trust_problem=None if status.trust_problem_indic is None else str(status.trust_problem_indic),
        signing_time=_stamped_time(status) or as_utc(status.signer_reported_dt) or claimed,
        coverage=coverage,
        docmdp_level=None if docmdp is None else int(docmdp.value),
        modification_level=None if level is None else ReportedLevel(level.name),
        docmdp_ok=status.docmdp_ok,
        changed_form_fields=changed,
        diff_problem=diff_problem,
        revision_end=revision_end,
        revision_sha256=sha,
    )


def _stamped_time(status: Any) -> datetime | None:
    """The signature time-stamp's time when it is sound and by a TSA under our root: a time the
    signer cannot choose, so revocation is judged against it (PAdES B-T and up)."""
    ts = getattr(status, "timestamp_validity", None)
    if ts is None or not (ts.intact and ts.valid and ts.trusted):
        return None
    return as_utc(ts.timestamp)


def _revision_digest(emb: EmbeddedPdfSignature, coverage: Coverage, data: bytes) -> tuple[int | None, str | None]:
    if coverage is Coverage.PARTIAL:
        return None, None
    br = emb.byte_range
    end = int(br[2]) + int(br[3])
    return end, hashlib.sha256(data[:end]).hexdigest()


async def _document_timestamp(
    emb: EmbeddedPdfSignature, trust: TrustContext, data: bytes, base: dict[str, Any]
) -> SignatureFinding:
    """A document time-stamp (PAdES B-LTA): its token validated against our root, and whether its
    certificate is a time-stamping authority's."""
    base["document_timestamp"] = True
    try:
        eku = emb.signer_cert.extended_key_usage_value
        base["time_stamping_eku"] = eku is not None and "time_stamping" in eku.native
        tst_info = emb.signed_data["encap_content_info"]["content"].parsed
        base["archive_policy"] = tst_info["policy"].dotted == ARCHIVE_POLICY
        status = await async_validate_pdf_timestamp(emb, trust.validation_context(), diff_policy=DIFF_POLICY)
    except Exception as e:
        return SignatureFinding(**base, error=_short(e))
    coverage = _COVERAGE.get(status.coverage, Coverage.PARTIAL)
    diff = status.diff_result
    level = status.modification_level
    end, sha = _revision_digest(emb, coverage, data)
    return SignatureFinding(
        **base,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        trust_problem=None if status.trust_problem_indic is None else str(status.trust_problem_indic),
        signing_time=as_utc(status.timestamp),
        coverage=coverage,
        modification_level=None if level is None else ReportedLevel(level.name),
        diff_problem=_short(diff) if isinstance(diff, SuspiciousModification) else None,
        revision_end=end,
        revision_sha256=sha,
    )


def _changes(reader: PdfFileReader, signatures: list[SignatureFinding], revisions: int) -> list[RevisionChange]:
    """Structural changes made by each revision after the first signature's revision."""
    if not signatures or signatures[0].signed_revision is None or signatures[0].signed_revision >= revisions - 1:
        return []  # nothing after the first signature's revision
    first = signatures[0].signed_revision
    out: list[RevisionChange] = []
    prev: RevisionSummary | None = None
    for rev in range(first, revisions):
        try:
            resolver = reader.get_historical_resolver(rev)
            cur = summarise(resolver)
            rewritten = rewritten_objects(resolver) if rev > first else {}
        except Exception as e:
            if rev > first:
                out.append(_unreadable(rev, _short(e)))
            prev = None
            continue
        if rev > first:
            out.append(
                compare(prev, cur, rev, rewritten)
                if prev is not None
                else _unreadable(rev, "previous revision unreadable")
            )
        prev = cur
    return out


def _unreadable(rev: int, why: str) -> RevisionChange:
    return RevisionChange(
        revision=rev,
        pages_before=0,
        pages_after=0,
        pages_changed=True,
        fields_added=(),
        non_signature_fields_added=(),
        fields_removed=(),
        fields_changed=(),
        annotations_added=0,
        annotations_removed=0,
        error=why,
    )


def analyse_bounded(
    data: bytes,
    trust: TrustContext,
    *,
    timeout_s: float = 5.0,
    max_revisions: int = MAX_REVISIONS,
    max_signatures: int = MAX_SIGNATURES,
    pool: WorkerPool | None = None,
) -> PdfFindings:
    """:func:`analyse` in a worker process of ``pool`` (the process-wide one by default), killed
    (and replaced) if it runs over ``timeout_s``.

    Raises :class:`~verify.report.VerifierBusy` only if no worker became free in time.
    """
    size = len(data)
    if size > MAX_PDF_BYTES:
        return analyse(data, trust)  # refuses at once, no need for a worker
    started = time.perf_counter()
    try:
        return (pool or default_pool()).call(
            analyse,
            (data, trust),
            {"max_revisions": max_revisions, "max_signatures": max_signatures},
            timeout_s=timeout_s,
        )
    except JobTimeout:
        kind, detail = ProblemKind.TIMEOUT, f"analysis did not finish within {timeout_s:g} s"
    except WorkerCrashed as e:
        kind, detail = ProblemKind.CRASHED, str(e)
    except JobFailed as e:
        kind, detail = ProblemKind.PARSE, str(e)
    return PdfFindings(
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        problems=(AnalysisProblem(kind, detail),),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )
