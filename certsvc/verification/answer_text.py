"""``certsvc verify``: the exit code of a verification answer and its human-readable form.

Exit codes (SPEC "Verdicts and what they promise"): 0 genuine and the licence ``valid``; 1 genuine
but not a valid licence (another status, status ``unknown``, or a receipt: genuine, but not a
licence at all); 3 any non-genuine verdict; 4 ``signed_by_enterprise``; 2 usage error.
"""

from __future__ import annotations

from typing import Any

from verify.report import Verdict

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_USAGE = 2
EXIT_NOT_GENUINE = 3
EXIT_SIGNED_BY_ENTERPRISE = 4

VERDICT_WORDS: dict[Verdict, str] = {
    Verdict.GENUINE: "GENUINE (真实): issued by this service",
    Verdict.SIGNED_BY_ENTERPRISE: (
        "SIGNED BY ENTERPRISE (企业签章): signed with enterprises' business-licence signatures; "
        "this is NOT a licence issued by this service"
    ),
    Verdict.MODIFIED_AFTER_SEALING: "NOT GENUINE (已被篡改): the document was changed after it was signed",
    Verdict.SIGNATURE_INVALID: "NOT GENUINE (签章无效): a signature is broken, untrusted or made with a revoked key",
    Verdict.NOT_ISSUED_HERE: "NOT GENUINE (非本平台签发): the seal is real but this service never issued this document",
    Verdict.UNKNOWN_SIGNER: "NOT GENUINE (签章者未知): signed with a certificate this service does not trust",
    Verdict.NO_SIGNATURE: "NOT GENUINE (无签章): the file carries no signature",
    Verdict.MALFORMED: "NOT GENUINE (文件无法识别): the file could not be read or examined",
}


def exit_code(answer: dict[str, Any]) -> int:
    """The exit code of ``certsvc verify`` for a verification answer (online or offline)."""
    verdict = answer.get("verdict")
    if verdict == Verdict.SIGNED_BY_ENTERPRISE:
        return EXIT_SIGNED_BY_ENTERPRISE
    if verdict != Verdict.GENUINE:
        return EXIT_NOT_GENUINE
    licence = answer.get("licence")
    if isinstance(licence, dict) and licence.get("status") == "valid":
        return EXIT_VALID
    return EXIT_NOT_VALID  # another status, unknown, a receipt, or nothing known of a licence


def _yes(flag: object) -> str:
    return "yes" if flag is True else "no" if flag is False else "unknown"


def _signer_line(s: dict[str, Any]) -> str:
    role = s.get("owner_kind") or "unknown"
    uscc = f", USCC {s['uscc']}" if s.get("uscc") else ""
    when = s.get("signing_time") or "unknown time"
    return f"{s.get('name') or 'unnamed'} ({role}{uscc}, kid {s.get('kid')}), signed at {when}"


def _licence_lines(lic: dict[str, Any]) -> list[str]:
    name = lic.get("licence_type_name") or lic.get("licence_type") or "licence"
    number = f" No. {lic['number']}" if lic.get("number") else ""
    lines = [f"licence: {name}{number}, identifier {lic.get('identifier')}"]
    if lic.get("holder_name") or lic.get("holder_uscc"):
        lines.append(f"holder:  {lic.get('holder_name') or ''} (USCC {lic.get('holder_uscc') or 'unknown'})")
    if lic.get("issuer"):
        lines.append(f"issuer:  {lic['issuer']}")
    if lic.get("valid_from") or lic.get("valid_until"):
        lines.append(f"valid:   {lic.get('valid_from') or '?'} to {lic.get('valid_until') or 'open-ended'}")
    status = str(lic.get("status", "unknown"))
    label = f" ({lic['status_label']})" if lic.get("status_label") else ""
    reason = lic.get("status_reason") or lic.get("state_reason")
    when = f" as of {lic['status_at_local']} (China time)" if lic.get("status_at_local") else ""
    lines.append(f"status:  {status.upper()}{label}{when}" + (f": {reason}" if reason else ""))
    if lic.get("holder_status_label"):
        lines.append(f"holder:  {lic['holder_status_label']} ({lic.get('holder_status_label_en') or ''})")
    commitment = lic.get("commitment")
    if isinstance(commitment, dict):  # issued in commitment mode (告知承诺)
        due = f", due {commitment['due']}" if commitment.get("due") else ""
        lines.append(
            f"commitment: {str(commitment.get('status', '')).upper()} ({commitment.get('status_label', '')}{due})"
        )
    return lines


def describe(answer: dict[str, Any]) -> str:
    """The answer in words: the verdict, what it is (licence and status, receipt, signers), the checks."""
    verdict = answer.get("verdict", "")
    words = VERDICT_WORDS.get(verdict, str(verdict))  # a Verdict hashes and compares as its value
    lines = [f"verdict: {verdict} — {words}"]
    if answer.get("offline"):
        lines.append("mode:    offline (trust list and status list only; whether it was issued is not checked)")
    if isinstance(answer.get("licence"), dict):
        lines += _licence_lines(answer["licence"])
    elif isinstance(answer.get("receipt"), dict):
        rec = answer["receipt"]
        lines.append(
            f"receipt: acceptance receipt (受理回执) {rec.get('application_number') or ''} "
            f"for {rec.get('matter') or 'an application'} — a receipt, not a licence"
        )
    elif isinstance(answer.get("report"), dict):
        rep = answer["report"]
        lines.append(
            f"report:  verification report (验证报告) {rep.get('id') or ''} of a check made at "
            f"{rep.get('checked_at') or 'an unknown time'} (verdict then: {rep.get('verdict') or 'unknown'})"
            " — a report, not a licence"
        )
    elif verdict == Verdict.GENUINE:
        lines.append("status:  UNKNOWN: the answer names no licence status")
    if answer.get("signers"):
        lines.append("signers:")
        for i, s in enumerate(answer["signers"], 1):
            lines.append(
                f"  {i}. {_signer_line(s)}; certificate valid then: {_yes(s.get('certificate_valid_then'))}, "
                f"now: {_yes(s.get('certificate_valid_now'))}"
            )
    elif isinstance(answer.get("signer"), dict):
        lines.append(f"sealed by: {_signer_line(answer['signer'])}")
    if isinstance(answer.get("grant"), dict):
        g = answer["grant"]
        lines.append(f"copy for: {g.get('grantee_name')} ({g.get('purpose')}), grant {g.get('state')}")
    lines.append("checks:")
    for c in answer.get("checks", []):
        label = f" ({c['label_zh']})" if c.get("label_zh") else ""
        lines.append(f"  [{'ok' if c.get('ok') else 'FAIL'}] {c.get('name')}{label}: {c.get('detail')}")
    return "\n".join(lines)
