"""The rules that turn PDF findings into a verdict, as small composable policies.

Each policy looks at the :class:`Evidence` and returns its :class:`Check`\\ s plus the verdict it
stands for when one of them fails. The verifier runs them in order and stops at the first failure,
so the order is the precedence of verdicts: unreadable → unsigned → broken seal → wrong signer →
changed after sealing → not in our records.

Two kinds of first signature lead to a positive verdict: a department's seal, or the service's own
on a verification report when ``is_report`` is given (``genuine``, once the sealed revision is one
this service issued, or a report it made, and only the service's own signatures follow) and
an enterprise's business-licence signature (``signed_by_enterprise``, once every later revision is
another enterprise's signature and nothing else: counter-signing). An enterprise's signature never
makes a document ``genuine``, whatever the page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from verify.report import (
    Check,
    CheckName,
    Coverage,
    ModificationLevel,
    PdfFindings,
    ProblemKind,
    SignatureFinding,
    Verdict,
)
from verify.trust import OwnerKind, TrustContext, TrustedCert

SEALING_KINDS = frozenset({OwnerKind.DEPARTMENT, OwnerKind.ENTERPRISE})
ACCEPTED_LEVELS = frozenset({ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING})


@dataclass(frozen=True)
class Evidence:
    """What the policies judge: the findings, the trust context and the issuance lookup."""

    findings: PdfFindings
    trust: TrustContext
    is_issued: Callable[[str], bool]
    is_report: Callable[[str], bool] | None = None  # a verification report under the service's seal?

    @property
    def seal(self) -> SignatureFinding | None:
        return self.findings.signatures[0] if self.findings.signatures else None

    @property
    def later(self) -> tuple[SignatureFinding, ...]:
        return self.findings.signatures[1:]

    def entry(self, sig: SignatureFinding) -> TrustedCert | None:
        return self.trust.by_kid(sig.signer_kid) if sig.signer_kid else None


@dataclass(frozen=True)
class Outcome:
    """The checks a policy made; ``verdict`` is set when one failed, ``settled`` when every check
    held and the answer is decided (no later policy runs)."""

    checks: tuple[Check, ...]
    verdict: Verdict | None = None
    settled: Verdict | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is None


class Policy(Protocol):
    """Turns the evidence about a PDF into a verdict; separate from gathering it, so rules can change alone."""

    def evaluate(self, ev: Evidence) -> Outcome: ...


def _sentence(parts: Sequence[str]) -> str:
    text = "; ".join(p.rstrip(".") for p in parts)
    return text[:1].upper() + text[1:] + "."


def _fmt(t: datetime | None) -> str:
    return t.isoformat(timespec="seconds") if t else "unknown"


class AnalysisCompleted:
    """The file was read to the end, within the limits: otherwise ``malformed``."""

    def evaluate(self, ev: Evidence) -> Outcome:
        f = ev.findings
        if not f.problems:
            return Outcome(
                (Check(CheckName.FILE_READABLE, True, f"The file is a readable PDF with {f.revisions} revision(s)."),)
            )
        names = {
            ProblemKind.LIMIT: CheckName.WITHIN_LIMITS,
            ProblemKind.TOO_LARGE: CheckName.WITHIN_LIMITS,
            ProblemKind.TIMEOUT: CheckName.ANALYSIS_FINISHED,
            ProblemKind.CRASHED: CheckName.ANALYSIS_FINISHED,
        }
        checks = tuple(Check(names.get(p.kind, CheckName.FILE_READABLE), False, p.diagnostics()) for p in f.problems)
        return Outcome(checks, Verdict.MALFORMED)


class HasSignature:
    """At least one signature: otherwise ``no_signature``."""

    def evaluate(self, ev: Evidence) -> Outcome:
        n = len(ev.findings.signatures)
        if n == 0:
            return Outcome(
                (Check(CheckName.SIGNATURE_PRESENT, False, "The file carries no signature."),), Verdict.NO_SIGNATURE
            )
        return Outcome((Check(CheckName.SIGNATURE_PRESENT, True, f"The file carries {n} signature(s)."),))


class SealIntact:
    """The first signature (the seal) is cryptographically sound and covers its whole revision."""

    def evaluate(self, ev: Evidence) -> Outcome:
        seal = ev.seal
        assert seal is not None
        name = seal.shown_name
        if seal.error:
            return Outcome(
                (Check(CheckName.SIGNATURE_INTACT, False, f"The seal {name} could not be checked: {seal.error}."),),
                Verdict.SIGNATURE_INVALID,
            )
        if not seal.intact:
            return Outcome(
                (
                    Check(
                        CheckName.SIGNATURE_INTACT,
                        False,
                        f"The signed bytes of {name} were changed: their digest "
                        "does not match the one that was signed.",
                    ),
                ),
                Verdict.SIGNATURE_INVALID,
            )
        if not seal.valid:
            return Outcome(
                (
                    Check(
                        CheckName.SIGNATURE_INTACT,
                        False,
                        f"The signature value of {name} does not verify with the certificate it names.",
                    ),
                ),
                Verdict.SIGNATURE_INVALID,
            )
        checks = [
            Check(CheckName.SIGNATURE_INTACT, True, f"The seal {name} is intact: the signed bytes are unchanged.")
        ]
        if seal.coverage is Coverage.PARTIAL:
            checks.append(
                Check(
                    CheckName.SEAL_COVERS_REVISION,
                    False,
                    "The seal's byte range does not cover a whole revision of the file (byte-range manipulation).",
                )
            )
            return Outcome(tuple(checks), Verdict.SIGNATURE_INVALID)
        checks.append(Check(CheckName.SEAL_COVERS_REVISION, True, "The seal covers its whole revision of the file."))
        return Outcome(tuple(checks))


def _unknown_signer(why: str) -> Outcome:
    return Outcome((Check(CheckName.SIGNER_KNOWN, False, why),), Verdict.UNKNOWN_SIGNER)


class SealSigner:
    """The seal is by a department (or enterprise) certificate of ours, valid and not revoked."""

    def evaluate(self, ev: Evidence) -> Outcome:
        seal = ev.seal
        assert seal is not None
        entry = ev.entry(seal)
        who = seal.shown_signer("an unnamed certificate")
        if entry is None:
            why = (
                "is issued by this service's root but is not on its trust list"
                if seal.trusted
                else "is not issued by this service's certificate authority"
            )
            return _unknown_signer(f"The seal's certificate ({who}, kid {seal.signer_kid}) {why}.")
        report = entry.owner_kind == OwnerKind.SERVICE and ev.is_report is not None
        if entry.owner_kind not in SEALING_KINDS and not report:
            return _unknown_signer(
                f"The first signature is by the service's own certificate ({entry.name}), which marks "
                "copies and seals its verification reports but never seals licences or receipts."
            )
        role = "the service's report seal" if report else entry.owner_kind.value
        checks = [
            Check(
                CheckName.SIGNER_KNOWN,
                True,
                f"Sealed by {entry.name} ({role}"
                + (f", USCC {entry.uscc}" if entry.uscc else "")
                + f", kid {entry.kid}).",
            )
        ]
        if not seal.trusted:
            checks.append(
                Check(
                    CheckName.SIGNER_TRUSTED,
                    False,
                    "The seal certificate does not validate against "
                    f"this service's root at the signing time ({seal.trust_problem or 'no path'}).",
                )
            )
            return Outcome(tuple(checks), Verdict.SIGNATURE_INVALID)
        checks.append(
            Check(
                CheckName.SIGNER_TRUSTED,
                True,
                "The seal certificate chains to this service's root and "
                f"was valid at the signing time ({_fmt(seal.signing_time)}).",
            )
        )
        if entry.revoked_at(seal.signing_time):
            checks.append(
                Check(
                    CheckName.SIGNER_NOT_REVOKED,
                    False,
                    f"The seal certificate of {entry.name} is revoked "
                    f"from {_fmt(entry.revoked_from)}; the document claims to be signed at "
                    f"{_fmt(seal.signing_time)}.",
                )
            )
            return Outcome(tuple(checks), Verdict.SIGNATURE_INVALID)
        checks.append(
            Check(CheckName.SIGNER_NOT_REVOKED, True, "The seal certificate was not revoked at the signing time.")
        )
        return Outcome(tuple(checks))


def _changes_after(ev: Evidence, seal: SignatureFinding) -> list[str]:
    """What changed after ``seal`` other than each later revision adding exactly one signature."""
    out: list[str] = []
    if seal.diff_problem:
        out.append(f"difference analysis: {seal.diff_problem}")
    elif seal.modification_level not in ACCEPTED_LEVELS:
        out.append(f"difference analysis rates the changes as {seal.modification_level or 'unknown'}")
    if seal.docmdp_ok is False:
        out.append("the changes break the seal's document modification permissions")
    for sig in ev.later[:-1]:
        if sig.diff_problem:
            out.append(f"after {sig.shown_name}: {sig.diff_problem}")
    first = seal.signed_revision or 0
    expected = set(range(first + 1, ev.findings.revisions))
    by_rev: dict[int, list[str]] = {}
    for sig in ev.later:
        if sig.signed_revision is not None:
            by_rev.setdefault(sig.signed_revision, []).append(sig.field_name)
    for change in ev.findings.changes:
        if not change.only_signatures_added:
            out.append(change.describe())
        elif change.revision not in by_rev:
            out.append(f"revision {change.revision} changed the document without adding a signature")
        elif sorted(change.fields_added) != sorted(by_rev[change.revision]):
            out.append(f"revision {change.revision} is not exactly one of the later signatures")
    if {c.revision for c in ev.findings.changes} != expected:
        out.append("not every revision after the seal could be examined")
    if any(len(names) > 1 for names in by_rev.values()) or set(by_rev) - expected:
        out.append("signatures share a revision or precede it")
    return out


def _covers_file(ev: Evidence) -> Check:
    last = ev.findings.signatures[-1]
    if last.coverage is Coverage.ENTIRE_FILE:
        return Check(CheckName.COVERS_FILE, True, "The last signature covers the entire file.")
    tail = ev.findings.size - last.revision_end if last.revision_end is not None else None
    return Check(
        CheckName.COVERS_FILE,
        False,
        "The last signature does not cover the entire file"
        + (f": {tail} byte(s) after it are unsigned." if tail else "."),
    )


def _in_later_revision(seal: SignatureFinding, sig: SignatureFinding) -> list[str]:
    out: list[str] = []
    if sig.coverage is Coverage.PARTIAL:
        out.append(f"signature {sig.shown_name} does not cover its revision")
    if sig.signed_revision is None or sig.signed_revision <= (seal.signed_revision or 0):
        out.append(f"signature {sig.shown_name} is not in a revision after the seal")
    return out


class EnterpriseSignaturesOnly:
    """A first signature by an enterprise: ``signed_by_enterprise`` when every signature is an
    enterprise's business-licence signature, sound and unrevoked at its signing time, and each
    later revision adds exactly one of them and nothing else (counter-signing).

    A later signature by anyone else, or any other change, is ``modified_after_sealing``; a later
    enterprise signature that is broken, untrusted or made after its ``revoked_from`` is
    ``signature_invalid``. Documents sealed by a department pass through to the rules after this.
    """

    def evaluate(self, ev: Evidence) -> Outcome:
        seal = ev.seal
        assert seal is not None
        entry = ev.entry(seal)
        if entry is None or entry.owner_kind != OwnerKind.ENTERPRISE:
            return Outcome(())
        checks = [
            Check(
                CheckName.ENTERPRISE_SIGNATURE,
                True,
                f"Signed by the enterprise {entry.name}"
                + (f" (USCC {entry.uscc})" if entry.uscc else "")
                + " with its business-licence certificate. An enterprise's signature says who signed, "
                "not that the content is a licence issued by this service.",
            )
        ]
        broken: list[str] = []
        foreign: list[str] = []
        for sig in ev.later:
            other = ev.entry(sig)
            if sig.error is None and (other is None or other.owner_kind != OwnerKind.ENTERPRISE):
                foreign.append(
                    f"signature {sig.shown_name} is by {sig.shown_signer('an unknown signer')}, not an enterprise"
                )
            else:
                broken.extend(self._broken(sig, other))
            foreign.extend(_in_later_revision(seal, sig))
        if ev.later:
            checks.append(
                Check(
                    CheckName.LATER_SIGNATURES_BY_ENTERPRISES,
                    not (broken or foreign),
                    _sentence(broken + foreign)
                    if broken or foreign
                    else f"{len(ev.later)} later signature(s), each an enterprise's intact business-licence signature.",
                )
            )
        changes = _changes_after(ev, seal)
        checks.append(
            Check(
                CheckName.NO_CHANGES_AFTER_SEALING,
                not changes,
                _sentence(changes)
                if changes
                else (
                    "Nothing was changed after signing."
                    if not ev.later
                    else "After the first signature, each revision only added another enterprise's signature."
                ),
            )
        )
        checks.append(_covers_file(ev))
        if broken and not foreign:
            return Outcome(tuple(checks), Verdict.SIGNATURE_INVALID)
        if any(not c.ok for c in checks):
            return Outcome(tuple(checks), Verdict.MODIFIED_AFTER_SEALING)
        return Outcome(tuple(checks), settled=Verdict.SIGNED_BY_ENTERPRISE)

    @staticmethod
    def _broken(sig: SignatureFinding, entry: TrustedCert | None) -> list[str]:
        name = sig.shown_name
        if sig.error or entry is None:
            return [f"signature {name} could not be checked ({sig.error or 'unknown certificate'})"]
        if not (sig.intact and sig.valid):
            return [f"signature {name} of {entry.name} is broken"]
        if not sig.trusted:
            return [f"signature {name} of {entry.name} does not validate against this service's root"]
        if entry.revoked_at(sig.signing_time):
            return [
                f"signature {name} of {entry.name} was made at {_fmt(sig.signing_time)}, "
                f"after its certificate was revoked (from {_fmt(entry.revoked_from)})"
            ]
        return []


class NothingAddedButServiceSignatures:
    """After the seal's revision, only signatures by our service certificate, each in its own update.

    Anything else (form filling, annotations, pages, rewritten objects, uncovered bytes, another
    signer) is ``modified_after_sealing`` — even where pyHanko's own bottom line would accept it.
    """

    def evaluate(self, ev: Evidence) -> Outcome:
        seal = ev.seal
        assert seal is not None and seal.signed_revision is not None
        checks: list[Check] = []
        later_problems = [p for sig in ev.later for p in self._later_problems(ev, seal, sig)]
        if ev.later:
            checks.append(
                Check(
                    CheckName.LATER_SIGNATURES_BY_SERVICE,
                    not later_problems,
                    _sentence(later_problems)
                    if later_problems
                    else f"{len(ev.later)} later signature(s), all by this service (marked copy).",
                )
            )
        change_problems = _changes_after(ev, seal)
        checks.append(
            Check(
                CheckName.NO_CHANGES_AFTER_SEALING,
                not change_problems,
                _sentence(change_problems)
                if change_problems
                else (
                    "Nothing was changed after sealing."
                    if not ev.later
                    else "After sealing, only this service's signatures were added."
                ),
            )
        )
        checks.append(_covers_file(ev))
        failed = any(not c.ok for c in checks)
        return Outcome(tuple(checks), Verdict.MODIFIED_AFTER_SEALING if failed else None)

    @staticmethod
    def _later_problems(ev: Evidence, seal: SignatureFinding, sig: SignatureFinding) -> list[str]:
        name = sig.shown_name
        if sig.error:
            return [f"signature {name} could not be checked ({sig.error})"]
        if sig.document_timestamp:  # B-LTA archive time-stamps: by our root's time-stamping authority
            return sig.timestamp_problems() + _in_later_revision(seal, sig)
        out: list[str] = []
        if not (sig.intact and sig.valid):
            out.append(f"signature {name} is broken")
        entry = ev.entry(sig)
        if entry is None or entry.owner_kind != OwnerKind.SERVICE:
            out.append(f"signature {name} is by {sig.shown_signer('an unknown signer')}, not by this service")
        elif not sig.trusted:
            out.append(f"signature {name} does not validate against this service's root")
        elif entry.revoked_at(sig.signing_time):
            out.append(f"signature {name} is by a revoked service certificate")
        return out + _in_later_revision(seal, sig)


class IssuedHere:
    """The sealed revision's SHA-256 is one this service issued (a licence version or a receipt; a
    verification report for the service's seal): otherwise ``not_issued_here``."""

    def evaluate(self, ev: Evidence) -> Outcome:
        seal = ev.seal
        assert seal is not None
        sha = seal.revision_sha256 or ""
        entry = ev.entry(seal)
        recorded = ev.is_report if entry and entry.owner_kind == OwnerKind.SERVICE and ev.is_report else ev.is_issued
        if sha and recorded(sha):
            return Outcome(
                (
                    Check(
                        CheckName.ISSUED_HERE,
                        True,
                        f"The sealed document (SHA-256 {sha[:16]}…) is one this service issued.",
                    ),
                )
            )
        return Outcome(
            (
                Check(
                    CheckName.ISSUED_HERE,
                    False,
                    f"This service has no record of issuing the sealed document "
                    f"(SHA-256 {sha[:16]}…), although the seal itself is genuine.",
                ),
            ),
            Verdict.NOT_ISSUED_HERE,
        )


DEFAULT_POLICIES: tuple[Policy, ...] = (
    AnalysisCompleted(),
    HasSignature(),
    SealIntact(),
    SealSigner(),
    EnterpriseSignaturesOnly(),
    NothingAddedButServiceSignatures(),
    IssuedHere(),
)


def evaluate(ev: Evidence, policies: Sequence[Policy] = DEFAULT_POLICIES) -> tuple[Verdict, tuple[Check, ...]]:
    """Run ``policies`` in order; the first failing (or settling) one decides the verdict, else ``genuine``."""
    checks: list[Check] = []
    for policy in policies:
        outcome = policy.evaluate(ev)
        checks.extend(outcome.checks)
        if not outcome.passed:
            assert outcome.verdict is not None
            return outcome.verdict, tuple(checks)
        if outcome.settled is not None:
            return outcome.settled, tuple(checks)
    return Verdict.GENUINE, tuple(checks)
