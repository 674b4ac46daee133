"""Acceptance receipts (受理回执), sealed by the department like licences, with their own QR."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from certsvc import audit
from certsvc.context import Context
from certsvc.core.clock import now, today
from certsvc.db.models import Department, Receipt, ReceiptMaterial, new_id
from certsvc.db.session import session_scope
from certsvc.departments.owned import owned_by
from certsvc.errors import Invalid
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.reform.credit import refuse_if_credit_restricted
from certsvc.security import qr_statement, records_statement, token_key
from signing.models import QrSpec, ReceiptDocument, SealJob
from signing.payload import KIND_RECEIPT, Claims, SignedPayload
from signing.seal import seal_code
from verify.trust import OwnerKind

RECEIPT_PURPOSE = "业务受理专用章"
# 容缺受理: a receipt's materials_state (certsvc.receipts.materials tracks it)
PENDING = "pending"
OVERDUE = "overdue"
COMPLETE = "complete"


async def issue_receipt(ctx: Context, dept: Department, body: Any) -> tuple[Receipt, str]:
    """Seal and store an acceptance receipt of ``dept``; returns it with the QR token printed on it."""
    uscc = None
    if body.applicant_uscc:
        try:
            uscc = validate_uscc(body.applicant_uscc)
        except IdentifierError as e:
            raise Invalid(f"applicant_uscc: {e}", field="applicant_uscc") from e
    with Session(ctx.engine) as s:
        cert = ctx.keyring.current(s, OwnerKind.DEPARTMENT, dept.id)
    receipt_id = new_id()
    received = today()
    missing = [(m.name.strip(), m.due) for m in body.materials_missing]
    for i, (name, due) in enumerate(missing):
        if due < received:
            raise Invalid(f"materials_missing.{i}.due: in the past", field=f"materials_missing.{i}.due")
        if any(other == name for other, _due in missing[:i]):
            raise Invalid(f"materials_missing.{i}.name: listed twice", field=f"materials_missing.{i}.name")
    if missing and uscc:  # 信用约束: no 容缺受理 for a holder under a credit restriction
        with Session(ctx.engine) as s:
            refuse_if_credit_restricted(
                s, uscc, actor_kind="department", actor_id=dept.id, what="容缺受理 (accepting with materials missing)"
            )
    digest = hashlib.sha256(
        "|".join([receipt_id, body.applicant_name, body.matter, body.application_number]).encode()
    ).digest()[:8]
    claims = Claims(
        kind=KIND_RECEIPT,
        identifier=receipt_id,
        holder_uscc=uscc,
        type_code="HZ",
        valid_from=received,
        valid_until=None,
        version=1,
        doc_hash=digest,
        status_index=None,
        issuer=dept.uscc,
        issued_at=int(now().timestamp()),
    )
    doc = ReceiptDocument(
        applicant_name=body.applicant_name.strip(),
        applicant_uscc=uscc or "",
        matter=body.matter.strip(),
        application_number=body.application_number.strip(),
        received_date=received,
        materials_received=[m.strip() for m in body.materials_received if m.strip()],
        materials_missing=missing,
        department=dept.name,
        issue_date=received,
        qr_text="",  # the sealer signs the QR payload and prints its URL
        seal_name=dept.name,
        seal_code=seal_code(dept.uscc, dept.id or 0),
        seal_purpose=RECEIPT_PURPOSE,
        note=body.note,
    )
    sealed = await ctx.sealer.seal_and_store(
        SealJob(
            document=doc,
            signer_kid=cert.kid,
            reason=f"{dept.name} 受理回执 {doc.application_number}",
            qr=QrSpec(claims, ctx.settings.public_base_url, "r"),
        )
    )
    sha = sealed.sha256
    with session_scope(ctx.engine) as s:
        rec = Receipt(
            id=receipt_id,
            department_id=dept.id or 0,
            applicant_name=doc.applicant_name,
            applicant_uscc=uscc,
            matter=doc.matter,
            application_number=doc.application_number,
            materials={
                "received": list(doc.materials_received),
                "missing": [{"name": n, "due": d.isoformat()} for n, d in missing],
            },
            qr_token=token_key(sealed.qr_token),
            qr_payload=sealed.qr_token,
            pdf_sha256=sha,
            signer_kid=cert.kid,
            materials_state=PENDING if missing else COMPLETE,
        )
        s.add(rec)
        s.add_all(ReceiptMaterial(receipt_id=receipt_id, name=n, due=d) for n, d in missing)
        audit.record(
            s,
            "receipt.issue",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="receipt",
            subject_id=receipt_id,
            details={"application_number": doc.application_number, "sha256": sha},
        )
    return rec, sealed.verify_url


def receipt_view(rec: Receipt, dept: Department, base_url: str, *, full: bool = False) -> dict[str, Any]:
    """A receipt as the API shows it; materials, applicant USCC and PDF link only with ``full`` (its department)."""
    out = {
        "id": rec.id,
        "genuine": True,
        "kind": "receipt",
        "matter": rec.matter,
        "application_number": rec.application_number,
        "applicant_name": rec.applicant_name,
        "department": dept.name,
        "issued_at": rec.issued_at.isoformat(),
        "sha256": rec.pdf_sha256,
        "verify_url": f"{base_url}/r/{rec.qr_payload}",
    }
    if full:
        out["materials"] = rec.materials
        out["applicant_uscc"] = rec.applicant_uscc
        out["pdf_url"] = f"{base_url}/api/v1/receipts/{rec.id}/pdf"
    return out


def own_receipt(s: Session, dept: Department, receipt_id: str) -> Receipt:
    """A receipt of ``dept``; another department's receipt is NotFound, as if it did not exist."""
    return owned_by(s, dept, Receipt, receipt_id, "receipt", "receipt")


def download(s: Session, dept: Department, receipt_id: str) -> Receipt:
    """A receipt of ``dept`` whose PDF it downloads; the download is audited like a licence's."""
    rec = own_receipt(s, dept, receipt_id)
    audit.record_access(
        s,
        "receipt.download",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="receipt",
        subject_id=rec.id,
        details={"application_number": rec.application_number, "sha256": rec.pdf_sha256},
    )
    return rec


def receipt_by_token(s: Session, token: str) -> tuple[Receipt, Department] | None:
    """The receipt a scanned QR token names, with its department; None if it is not ours."""
    scanned = qr_statement(token)
    if scanned is None or scanned.claims.kind != KIND_RECEIPT:
        return None
    return receipt_by_statement(s, scanned)


def receipt_by_statement(s: Session, scanned: SignedPayload) -> tuple[Receipt, Department] | None:
    """The receipt a QR statement names (its id), if the service issued that very statement."""
    rec = s.get(Receipt, scanned.claims.identifier)
    if rec is None or not records_statement(rec.qr_payload, scanned):
        return None
    dept = s.get(Department, rec.department_id)
    assert dept is not None
    return rec, dept
