"""The verification report: a verdict from a closed set, the checks behind it, and the raw findings.

Everything here is plain, frozen and picklable, because findings are produced in a worker process
and sent back over a pipe.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.trust import OwnerKind

REASON_MAX = 500  # characters of a signature's /Reason kept in the findings
SHOWN_MAX = 80  # characters of a name read from the file (a field name, a CN) that a sentence shows


def quoted(text: str) -> str:
    """A name read from the file, as a sentence shows it: quoted (control characters escaped, as
    ``repr`` does), and cut to :data:`SHOWN_MAX` characters with an ellipsis — a forged signature
    names itself whatever it likes, and its name must not read as the service's own words."""
    r = repr(text)
    inner = r[1:-1]
    if len(inner) > SHOWN_MAX:
        inner = inner[: SHOWN_MAX - 1] + "…"
    return f"{r[0]}{inner}{r[0]}"


class Verdict(StrEnum):
    """The closed set of verdicts the public sees (SPEC: "Verification")."""

    GENUINE = "genuine"
    SIGNED_BY_ENTERPRISE = "signed_by_enterprise"
    MODIFIED_AFTER_SEALING = "modified_after_sealing"
    SIGNATURE_INVALID = "signature_invalid"
    NOT_ISSUED_HERE = "not_issued_here"
    UNKNOWN_SIGNER = "unknown_signer"
    NO_SIGNATURE = "no_signature"
    MALFORMED = "malformed"


class Coverage(StrEnum):
    """How much of the file a signature's byte range covers (pyHanko's SignatureCoverageLevel)."""

    ENTIRE_FILE = "entire_file"
    ENTIRE_REVISION = "entire_revision"
    PARTIAL = "partial"


class CheckName(StrEnum):
    """The rules a verdict is made of: the ``name`` of each check in an answer."""

    # reading the file (PDF) or the payload (QR)
    FILE_READABLE = "file_readable"
    WITHIN_LIMITS = "within_limits"
    ANALYSIS_FINISHED = "analysis_finished"
    PAYLOAD_READABLE = "payload_readable"
    KIND_MATCHES_LINK = "kind_matches_link"
    # the seal (PDF) or the payload's signature (QR)
    SIGNATURE_PRESENT = "signature_present"
    SIGNATURE_INTACT = "signature_intact"
    SIGNATURE_VALID = "signature_valid"
    SEAL_COVERS_REVISION = "seal_covers_revision"
    SIGNER_KNOWN = "signer_known"
    SIGNER_TRUSTED = "signer_trusted"
    SIGNER_NOT_REVOKED = "signer_not_revoked"
    LICENCE_TYPE_ALLOWED = "licence_type_allowed"
    ISSUER_IS_SIGNER = "issuer_is_signer"  # QR: the CWT's ``iss`` is the department that signed it
    # after sealing
    LATER_SIGNATURES_BY_SERVICE = "later_signatures_by_service"
    NO_CHANGES_AFTER_SEALING = "no_changes_after_sealing"
    COVERS_FILE = "covers_file"
    # what was sealed
    ENTERPRISE_SIGNATURE = "enterprise_signature"
    LATER_SIGNATURES_BY_ENTERPRISES = "later_signatures_by_enterprises"
    ISSUED_HERE = "issued_here"
    STATUS_LIST = "status_list"  # offline: the status came from a signed status list


class ModificationLevel(StrEnum):
    """pyHanko's rating of the changes after a signature (its ``ModificationLevel`` names)."""

    NONE = "NONE"
    LTA_UPDATES = "LTA_UPDATES"
    FORM_FILLING = "FORM_FILLING"
    ANNOTATIONS = "ANNOTATIONS"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Check:
    """One rule and its outcome, in words a member of the public can read."""

    name: CheckName
    ok: bool
    detail: str


class ProblemKind(StrEnum):
    """Why an analysis could not (fully) run."""

    TOO_LARGE = "too_large"
    NOT_PDF = "not_pdf"
    PARSE = "parse"
    ENCRYPTED = "encrypted"
    LIMIT = "limit"
    TIMEOUT = "timeout"
    CRASHED = "crashed"


_PROBLEM_SENTENCES = {
    ProblemKind.TOO_LARGE: "The file is larger than the verifier accepts",
    ProblemKind.NOT_PDF: "The file is not a PDF document",
    ProblemKind.PARSE: "The PDF structure could not be read",
    ProblemKind.ENCRYPTED: "The PDF is encrypted; licences issued here never are",
    ProblemKind.LIMIT: "The PDF exceeds a verification limit",
    ProblemKind.TIMEOUT: "The analysis did not finish in time and was stopped",
    ProblemKind.CRASHED: "The analysis process stopped unexpectedly",
}


@dataclass(frozen=True)
class AnalysisProblem:
    """A reason the PDF analysis stopped early (recorded in findings, never raised)."""

    kind: ProblemKind
    detail: str

    def diagnostics(self) -> str:
        return f"{_PROBLEM_SENTENCES[self.kind]}: {self.detail}."


class VerifyError(Exception):
    """Base of the errors this package raises (few: verification itself returns verdicts)."""

    def diagnostics(self) -> str:
        return f"Verification failed: {self}."


class TrustContextError(VerifyError):
    """The trust context given to the verifier is inconsistent (a configuration error)."""

    def diagnostics(self) -> str:
        return f"The trust list is not usable: {self}."


class VerifierBusy(VerifyError):
    """Every analysis worker stayed busy for longer than the queue limit; try again later."""

    def diagnostics(self) -> str:
        return f"The verifier is busy; please try again in a moment ({self})."


class StatusListError(VerifyError):
    """A status list that cannot be decoded, or an index outside it."""

    def diagnostics(self) -> str:
        return f"The status list cannot be used: {self}."


@dataclass(frozen=True)
class SignatureFinding:
    """What the PDF analysis found out about one embedded signature, without judging it."""

    field_name: str
    signed_revision: int | None = None
    signer_kid: str | None = None
    signer_cn: str | None = None
    signer_uscc: str | None = None
    owner_kind: OwnerKind | None = None  # from the trust context; None if the certificate is not on it
    intact: bool = False  # the digest over the byte range matches the signed digest
    valid: bool = False  # the CMS signature verifies with the signer's public key
    trusted: bool = False  # the signer certificate chains to our root (pyHanko path validation)
    trust_problem: str | None = None
    signing_time: datetime | None = None  # self-reported by the signer (no timestamp authority)
    coverage: Coverage = Coverage.PARTIAL
    docmdp_level: int | None = None  # 1..3 if this is a certification signature
    modification_level: ModificationLevel | None = None  # pyHanko's rating of later revisions
    docmdp_ok: bool | None = None
    changed_form_fields: tuple[str, ...] = ()
    diff_problem: str | None = None  # pyHanko's SuspiciousModification message, if any
    revision_end: int | None = None  # byte offset where the signed revision ends
    revision_sha256: str | None = None  # SHA-256 of data[:revision_end]
    reason: str | None = None  # the signed /Reason, cut to REASON_MAX characters
    error: str | None = None  # the signature could not be read or validated at all
    document_timestamp: bool = False  # an RFC 3161 document time-stamp (B-LTA), not a signature
    time_stamping_eku: bool = False  # its certificate is a time-stamping authority's (EKU timeStamping)
    archive_policy: bool = False  # granted under the policy of the service's own archive time-stamps

    @property
    def shown_name(self) -> str:
        """The field name as sentences show it: :func:`quoted`."""
        return quoted(self.field_name)

    def shown_signer(self, unknown: str) -> str:
        """The signer's CN as sentences show it (:func:`quoted`), or ``unknown`` when there is none."""
        return quoted(self.signer_cn) if self.signer_cn else unknown

    def timestamp_problems(self) -> list[str]:
        """Why this document time-stamp is not one the service's time-stamping authority added
        (empty if it is: intact, valid, chaining to our root, a timeStamping certificate)."""
        name = self.shown_name
        if not self.document_timestamp:
            return [f"{name} is not a document time-stamp"]
        out = [] if self.intact and self.valid else [f"document time-stamp {name} is broken"]
        if not self.trusted:
            out.append(f"document time-stamp {name} is not by this service's time-stamping authority")
        elif not self.time_stamping_eku:
            out.append(f"document time-stamp {name} is by a certificate that is not a time-stamping authority's")
        elif not self.archive_policy:  # e.g. a token anyone can get from POST /tsa
            out.append(f"document time-stamp {name} is not one of this service's archive time-stamps")
        return out

    def diagnostics(self) -> str:
        """One sentence about this signature, for logs and the CLI."""
        who = self.shown_signer("an unreadable certificate")
        if self.error:
            return f"Signature {self.shown_name} could not be checked: {self.error}."
        state = "intact" if self.intact and self.valid else "broken"
        trust = "trusted" if self.trusted else "not trusted"
        return f"Signature {self.shown_name} by {who} is {state} and {trust}."


@dataclass(frozen=True)
class RevisionChange:
    """What one incremental update changed, structurally, compared with the revision before it.

    pyHanko's difference analysis classifies a new signature field *and* ordinary form filling as
    FORM_FILLING; this structural comparison is what tells the two apart.
    """

    revision: int
    pages_before: int
    pages_after: int
    pages_changed: bool  # page list differs (added, removed or reordered pages)
    fields_added: tuple[str, ...]
    non_signature_fields_added: tuple[str, ...]
    fields_removed: tuple[str, ...]
    fields_changed: tuple[str, ...]  # existing fields whose type or value changed
    annotations_added: int  # new annotations that are not widgets of newly added signature fields
    annotations_removed: int
    unexpected_rewrites: tuple[str, ...] = ()  # overwritten objects a signature update never touches
    error: str | None = None  # the revision could not be summarised (cyclic or oversized structure)

    @property
    def only_signatures_added(self) -> bool:
        return (
            self.error is None
            and not self.pages_changed
            and self.pages_before == self.pages_after
            and not self.non_signature_fields_added
            and not self.fields_removed
            and not self.fields_changed
            and self.annotations_added == 0
            and self.annotations_removed == 0
            and not self.unexpected_rewrites
        )

    def describe(self) -> str:
        if self.error:
            return f"revision {self.revision} could not be examined: {self.error}"
        parts: list[str] = []
        if self.pages_after != self.pages_before:
            parts.append(f"page count {self.pages_before} → {self.pages_after}")
        elif self.pages_changed:
            parts.append("pages replaced or reordered")
        if self.non_signature_fields_added:
            parts.append("form fields added: " + ", ".join(self.non_signature_fields_added))
        if self.fields_removed:
            parts.append("form fields removed: " + ", ".join(self.fields_removed))
        if self.fields_changed:
            parts.append("form fields changed: " + ", ".join(self.fields_changed))
        if self.annotations_added:
            parts.append(f"{self.annotations_added} annotation(s) added")
        if self.annotations_removed:
            parts.append(f"{self.annotations_removed} annotation(s) removed")
        if self.unexpected_rewrites:
            parts.append("objects rewritten: " + ", ".join(self.unexpected_rewrites[:5]))
        if not parts:
            added = ", ".join(self.fields_added) or "nothing"
            return f"revision {self.revision} added signature field(s): {added}"
        return f"revision {self.revision}: " + "; ".join(parts)


@dataclass(frozen=True)
class PdfFindings:
    """Everything the analysis of one file produced. ``problems`` non-empty means it stopped early."""

    size: int
    sha256: str
    revisions: int = 0
    signatures: tuple[SignatureFinding, ...] = ()
    changes: tuple[RevisionChange, ...] = ()  # one per revision after the first signature's
    problems: tuple[AnalysisProblem, ...] = ()
    elapsed_ms: float = 0.0

    def diagnostics(self) -> str:
        if self.problems:
            return " ".join(p.diagnostics() for p in self.problems)
        return " ".join(s.diagnostics() for s in self.signatures) or "No signature found."


@dataclass(frozen=True)
class SignerInfo:
    """Who sealed (or signed) the document, as shown to the public."""

    name: str | None
    uscc: str | None
    kid: str | None
    owner_kind: OwnerKind | None
    owner_id: str | None = None
    field_name: str | None = None
    signing_time: datetime | None = None
    certificate_valid_then: bool | None = None  # chained to the root, unrevoked, at signing_time
    certificate_valid_now: bool | None = None  # within its validity period and not revoked now


@dataclass(frozen=True)
class LaterSignature:
    """A signature added after the seal: on a genuine file, our service's marking signature."""

    field_name: str
    kid: str | None
    owner_kind: OwnerKind | None
    signing_time: datetime | None = None
    reason: str | None = None  # the signed /Reason; for the service, not part of to_dict()


@dataclass(frozen=True)
class Report:
    """The verdict on one PDF, with the checks behind it."""

    verdict: Verdict
    checks: tuple[Check, ...]
    findings: PdfFindings | None = None
    signer: SignerInfo | None = None
    later_signatures: tuple[LaterSignature, ...] = ()
    signers: tuple[SignerInfo, ...] = ()  # signed_by_enterprise: every enterprise signer, in order
    sealed_revision_sha256: str | None = None  # the SHA-256 that was looked up as issued
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def genuine(self) -> bool:
        return self.verdict is Verdict.GENUINE

    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def diagnostics(self) -> str:
        failed = self.failed_checks()
        if not failed:
            return f"Verdict {self.verdict.value}."
        return f"Verdict {self.verdict.value}: " + "; ".join(c.detail.rstrip(".") for c in failed) + "."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape of ``POST /api/v1/verify`` minus the service's additions)."""
        out: dict[str, Any] = {
            "verdict": self.verdict.value,
            "checks": [asdict(c) for c in self.checks],
        }
        if self.signer is not None:
            out["signer"] = _signer_dict(self.signer)
        if self.signers:
            out["signers"] = [_signer_dict(s) for s in self.signers]
        if self.later_signatures:
            out["later_signatures"] = [_jsonable(_public(asdict(s))) for s in self.later_signatures]
        if self.findings is not None:
            out["file"] = {
                "size": self.findings.size,
                "sha256": self.findings.sha256,
                "revisions": self.findings.revisions,
            }
        if self.sealed_revision_sha256:
            out["sealed_revision_sha256"] = self.sealed_revision_sha256
        out.update(self.extra)
        return out


def _signer_dict(signer: SignerInfo) -> dict[str, Any]:
    d = _jsonable(asdict(signer))
    for key in ("certificate_valid_then", "certificate_valid_now"):
        if d[key] is None:
            del d[key]  # only said of the signers of a signed_by_enterprise document
    return d


def _public(d: dict[str, Any]) -> dict[str, Any]:
    d.pop("reason", None)  # read by the service (the grant of a marked copy), not published
    return d


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}
