"""The /verify page's checks and the verification reports (验证报告) sealed for them.

A check on the page runs the same service functions as ``POST /api/v1/verify`` and ``/verify/qr``
(same limits, same answer); the answer is kept — never the uploaded file — with the licence's
status history as it stood at that moment. The page links to the report, which is rendered and
sealed with the service's own seal on its first download (later downloads get the same PDF) for
:data:`REPORT_LINK_TTL` after the check. A report is itself a document the service issued: its
sealed SHA-256 is recorded, so uploading it answers ``genuine`` with ``report``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.capacity import Caller
from certsvc.context import Context
from certsvc.core.clock import CST, now
from certsvc.db.models import LicenceStatusChange, LicenceVersion
from certsvc.db.session import session_scope
from certsvc.db.work import VerificationReport
from certsvc.errors import Gone, Invalid, NotFound
from certsvc.keyring import SERVICE_OWNER
from certsvc.licences import status as st
from certsvc.verification.pdf import verify_upload
from certsvc.verification.qr import verify_qr
from signing.report import ReportDocument, seal_report
from signing.seal import seal_code
from verify.report import Verdict
from verify.words import VERDICT_WORDS

REPORT_LINK_TTL = timedelta(hours=24)
"""How long after a check its report can be downloaded from the link on the result page."""

SERVICE_NAME = "电子证照核验服务"
PDF_MAGIC_WINDOW = 1024  # readers accept "%PDF-" anywhere in the first KB

ACTIONS = {
    "issue": ("签发", "issued"),
    "amend": ("变更", "amended"),
    "renew": ("延续", "renewed"),
    "suspend": ("暂停", "suspended"),
    "resume": ("恢复", "resumed"),
    "revoke": ("撤销", "revoked"),
    "expire": ("到期", "expired"),
}


@dataclass(frozen=True)
class PageCheck:
    """What the result page shows: the answer, its banner, and the report to download."""

    answer: dict[str, Any]
    banner: dict[str, str]
    report_id: str
    checked_at: datetime
    history: list[dict[str, Any]]


def banner(answer: dict[str, Any]) -> dict[str, str]:
    """The verdict at a glance, as ``/v/`` shows a status: ``zh``, ``en``, a sentence, and the
    colour class (``valid`` green, ``expired`` amber, ``revoked`` red)."""
    verdict = Verdict(answer.get("verdict", Verdict.MALFORMED))
    zh, en, sentence = VERDICT_WORDS[verdict]
    if verdict is Verdict.SIGNED_BY_ENTERPRISE:
        return {"zh": zh, "en": en, "sentence": sentence, "css": "expired"}
    if verdict is not Verdict.GENUINE:
        return {"zh": zh, "en": f"Not genuine: {en.lower()}", "sentence": sentence, "css": "revoked"}
    if isinstance(answer.get("report"), dict):
        return {"zh": "真实的验证报告", "en": "A genuine verification report", "sentence": sentence, "css": "valid"}
    if isinstance(answer.get("receipt"), dict):
        return {"zh": "真实的受理回执", "en": "A genuine acceptance receipt", "sentence": sentence, "css": "valid"}
    lic = answer.get("licence")
    status = lic.get("status") if isinstance(lic, dict) else None
    if status == st.VALID:
        return {"zh": "真实有效", "en": "Genuine and valid", "sentence": sentence, "css": "valid"}
    label = st.LABELS.get(str(status), ("状态未知", "status unknown"))
    return {"zh": f"真实 · {label[0]}", "en": f"Genuine, {label[1].lower()}", "sentence": sentence, "css": "expired"}


def _looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:PDF_MAGIC_WINDOW]


def _history(s: Session, licence_id: str | None, at: datetime) -> list[dict[str, Any]]:
    """The licence's recorded status changes up to ``at``, oldest first, as a person reads them."""
    if licence_id is None:
        return []
    rows = s.exec(
        select(LicenceStatusChange)
        .where(LicenceStatusChange.licence_id == licence_id, col(LicenceStatusChange.at) <= at)
        .order_by(col(LicenceStatusChange.at), col(LicenceStatusChange.id))
    ).all()
    out = []
    for r in rows:
        zh, en = ACTIONS.get(r.action, (r.action, r.action))
        when = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
        out.append(
            {
                "at": when.isoformat(),
                "at_local": when.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
                "action": r.action,
                "action_label": zh,
                "action_label_en": en,
                "state": r.state,
                "version": r.version,
                "reason": r.reason,
            }
        )
    return out


def _record(ctx: Context, answer: dict[str, Any], source: str, sha: str | None) -> PageCheck:
    """Keep the answer (and the history it stood on) for the report; audited."""
    at = now()
    lic = answer.get("licence")
    with session_scope(ctx.engine) as s:
        licence_id = None
        if isinstance(lic, dict) and lic.get("identifier"):
            licence_id = s.exec(
                select(LicenceVersion.licence_id).where(LicenceVersion.identifier == lic["identifier"])
            ).first()
        history = _history(s, licence_id, at)
        row = VerificationReport(
            checked_at=at,
            source=source,
            checked_sha256=sha,
            verdict=str(answer.get("verdict")),
            licence_id=licence_id,
            answer={**answer, "history": history},
        )
        s.add(row)
        audit.record(
            s,
            "verification.check",
            actor_kind="public",
            subject_kind="file" if source == "pdf" else "qr",
            subject_id=sha,
            details={"verdict": row.verdict, "report": row.id, "licence": licence_id},
        )
        report_id = row.id
    return PageCheck(answer, banner(answer), report_id, at, history)


async def check_pdf(ctx: Context, data: bytes, caller: Caller) -> PageCheck:
    """Verify an upload from the page exactly as ``POST /api/v1/verify`` does (same workers,
    limits and answer), after refusing what is not a PDF at all (422 naming ``file``)."""
    if not _looks_like_pdf(data):
        raise Invalid("file: this is not a PDF file (它不是 PDF 文件)", field="file")
    answer = await verify_upload(ctx, data, caller)
    file = answer.get("file")
    sha = file.get("sha256") if isinstance(file, dict) else None
    if sha is None:
        sha = hashlib.sha256(data).hexdigest()
    return _record(ctx, answer, "pdf", sha)


def check_qr(ctx: Context, text: str) -> PageCheck:
    """Verify pasted QR text exactly as ``POST /api/v1/verify/qr`` does (422 naming ``text`` when empty)."""
    text = text.strip()
    if not text:
        raise Invalid("text: paste the text of the QR code (请粘贴二维码内容)", field="text")
    if len(text) > 4000:
        raise Invalid("text: at most 4000 characters (二维码内容过长)", field="text")
    return _record(ctx, verify_qr(ctx, text), "qr", None)


def _broken(text: str, width: int = 34) -> str:
    """A long unbroken code (an identifier, a digest) in lines of at most ``width`` characters,
    broken after a dot where there is one, so that the report's table never overflows."""
    lines: list[str] = []
    while len(text) > width:
        cut = text.rfind(".", 0, width) + 1 or width
        lines.append(text[:cut])
        text = text[cut:]
    return "\n".join([*lines, text])


def _yes(ok: object) -> str:
    return "通过 pass" if ok else "未通过 FAIL"


def _rows(r: VerificationReport) -> list[tuple[str, str]]:
    a = r.answer
    b = banner(a)
    at = r.checked_at if r.checked_at.tzinfo else r.checked_at.replace(tzinfo=UTC)
    rows = [
        ("核验时间 Checked at", f"{at.astimezone(CST).strftime('%Y-%m-%d %H:%M:%S')}（北京时间 China time）"),
        (
            "核验对象 What was checked",
            f"上传的 PDF 文件 An uploaded PDF\nSHA-256:\n{_broken(r.checked_sha256 or '')}"
            if r.source == "pdf"
            else "二维码内容 The text of a QR code",
        ),
        ("核验结论 Verdict", f"{b['zh']} · {b['en']}\n{b['sentence']}\n({a.get('verdict')})"),
    ]
    lic = a.get("licence")
    if isinstance(lic, dict) and a.get("verdict") != Verdict.GENUINE:
        rows.append(
            (
                "注意 Note",
                "所核验文件不可采信；以下证照信息是本服务签发的原件记录，不代表该文件的内容。\n"
                "The file cannot be relied on: below is the record of the original, not what the file shows.",
            )
        )
    if isinstance(lic, dict):
        rows += [
            ("证照 Licence", f"{lic.get('licence_type_name') or ''} {lic.get('number') or ''}".strip()),
            ("电子证照标识 Identifier", _broken(str(lic.get("identifier") or ""))),
            ("持证主体 Holder", f"{lic.get('holder_name') or ''}\n{lic.get('holder_uscc') or ''}"),
            ("发证机关 Issuer", str(lic.get("issuer") or "")),
            (
                "有效期 Validity",
                f"{lic.get('valid_from') or ''} 至 {lic.get('valid_until') or '长期 (no expiry)'}",
            ),
            (
                "核验时状态 Status then",
                f"{lic.get('status_label') or ''} · {lic.get('status_label_en') or lic.get('status')}"
                + (f"\n{lic['holder_status_label']}" if lic.get("holder_status_label") else ""),
            ),
        ]
        history = a.get("history") or []
        for i in range(0, max(len(history), 1), 10):  # a page holds many rows, not one endless row
            lines = [
                f"{h['at_local']} {h['action_label']} {h['action_label_en']} · 第{h['version']}版"
                + (f"：{h['reason']}" if h.get("reason") else "")
                for h in history[i : i + 10]
            ]
            rows.append(("状态记录 Status history", "\n".join(lines) or "无 none"))
    receipt = a.get("receipt")
    if isinstance(receipt, dict):
        rows.append(("受理回执 Receipt", f"{receipt.get('application_number') or ''} {receipt.get('matter') or ''}"))
    report = a.get("report")
    if isinstance(report, dict):
        rows.append(("验证报告 Report", f"报告编号 {report.get('id')}，核验结论 {report.get('verdict')}"))
    grant = a.get("grant")
    if isinstance(grant, dict):
        rows.append(("授权加注 Marked copy", f"仅供 {grant.get('grantee_name')} 用于 {grant.get('purpose')}"))
    for c in a.get("checks", []):
        label = f"{_yes(c.get('ok'))}\n{c.get('label_zh')} {c.get('label_en')}"
        rows.append((label, f"{c.get('detail_zh') or ''}\n{c.get('detail') or ''}"))
    return rows


def _document(r: VerificationReport) -> ReportDocument:
    at = r.checked_at if r.checked_at.tzinfo else r.checked_at.replace(tzinfo=UTC)
    return ReportDocument(
        number=r.id,
        rows=_rows(r),
        issuer_name=SERVICE_NAME,
        issue_date=at.astimezone(CST).date(),
        seal_code=seal_code("000000000000000000", 0),
        footer="本报告由电子证照核验服务电子印章签章，经篡改无效；可在本服务 /verify 页面上传核验 · "
        "Sealed by the service; upload it on /verify to check it",
    )


def _linked_report(ctx: Context, report_id: str) -> tuple[VerificationReport, str, bytes | None]:
    """The check behind a report link, its file name and its sealed PDF if it has been sealed;
    404 unknown, 410 once the link has expired."""
    with Session(ctx.engine) as s:
        row = s.get(VerificationReport, report_id)
        if row is None:
            raise NotFound("no such verification report")
        s.expunge(row)
    checked = row.checked_at if row.checked_at.tzinfo else row.checked_at.replace(tzinfo=UTC)
    if now() - checked > REPORT_LINK_TTL:
        raise Gone("this report link has expired; verify the file again (报告链接已过期，请重新核验)")
    name = f"验证报告-{row.id[:12]}.pdf"
    if not row.pdf_sha256:
        return row, name, None
    pdf = ctx.blobs.get(row.pdf_sha256)
    if pdf is None:
        raise NotFound("the report PDF is missing from the blob store")
    return row, name, pdf


def report_head(ctx: Context, report_id: str) -> tuple[bytes | None, str]:
    """What a ``HEAD`` of a report link answers, with the same 404 and 410 as the download: the sealed
    PDF once it has been sealed, else ``None`` — a ``HEAD`` seals nothing."""
    _, name, pdf = _linked_report(ctx, report_id)
    return pdf, name


async def report_pdf(ctx: Context, report_id: str) -> tuple[bytes, str]:
    """The sealed report of a check made on the page, and its file name: sealed on the first
    download (audited), the same PDF afterwards; 404 unknown, 410 once the link has expired."""
    row, name, stored = _linked_report(ctx, report_id)
    if stored is not None:
        return stored, name
    with Session(ctx.engine) as s:
        cert = ctx.keyring.current(s, SERVICE_OWNER, None)
    pdf = await seal_report(
        _document(row), ctx.keyring.signer(cert), reason=f"certsvc 验证报告 {row.id}", ltv=ctx.keyring.ltv(cert)
    )
    sha = ctx.blobs.put(pdf)
    with session_scope(ctx.engine) as s:
        result = cast(
            CursorResult[Any],
            s.execute(
                update(VerificationReport)
                .where(col(VerificationReport.id) == row.id, col(VerificationReport.pdf_sha256).is_(None))
                .values(pdf_sha256=sha, signer_kid=cert.kid, sealed_at=now())
            ),
        )
        if result.rowcount != 1:  # sealed at the same time by another request: hand out that one
            winner = s.get(VerificationReport, row.id)
            assert winner is not None and winner.pdf_sha256 is not None
            stored = ctx.blobs.get(winner.pdf_sha256)
            if stored is None:
                raise NotFound("the report PDF is missing from the blob store")
            return stored, name
        audit.record(
            s,
            "verification.report",
            actor_kind="public",
            subject_kind="verification_report",
            subject_id=row.id,
            details={"sha256": sha, "verdict": row.verdict, "checked_sha256": row.checked_sha256},
        )
    return pdf, name


PURGE_BATCH = 500


def sweep_unsealed_checks(s: Session, at: datetime) -> int:
    """Remove checks whose report link has expired without the report being sealed (nothing refers
    to them any more: the page's link is 410 already), a batch at a time, with one audit event.
    Sealed reports stay: their records are what makes an uploaded report ``genuine``."""
    cutoff = at - REPORT_LINK_TTL
    ids = s.exec(
        select(VerificationReport.id)
        .where(col(VerificationReport.pdf_sha256).is_(None), col(VerificationReport.checked_at) < cutoff)
        .limit(PURGE_BATCH)
    ).all()
    if not ids:
        return 0
    s.execute(delete(VerificationReport).where(col(VerificationReport.id).in_(ids)))
    audit.record(
        s, "verification.purge", actor_kind="system", details={"removed": len(ids), "before": cutoff.isoformat()}
    )
    return len(ids)
