"""``POST /verify/qr``: the offline check of the signed payload, then what the record says now."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from certsvc.context import Context
from certsvc.licences.lookup import public_view_by_statement
from certsvc.metrics import VERIFICATIONS
from certsvc.receipts.issuance import receipt_by_statement
from certsvc.security import qr_statement
from certsvc.verification.trust import trust_for
from signing.payload import KIND_LICENCE, KIND_RECEIPT
from verify.qr import QrResult, verify_qr_text
from verify.report import CheckName, Verdict
from verify.words import bilingual


def verify_qr(ctx: Context, text: str) -> dict[str, Any]:
    """Verify a scanned QR text, adding what the service recorded of it: a valid seal alone is not proof of issue."""
    result = verify_qr_text(text.strip(), trust_for(ctx.engine))
    body = result.to_dict()
    try:
        return bilingual(_with_record(ctx, result, body))
    finally:
        VERIFICATIONS.labels("qr", body["verdict"]).inc()


def _with_record(ctx: Context, result: QrResult, body: dict[str, Any]) -> dict[str, Any]:
    """The record the verified payload names (by its identifier), if the service issued that very
    statement; the token's bytes play no part, so every path (this one, ``/v/``, ``/r/``) agrees."""
    if not result.genuine or result.token is None:
        return body
    scanned = qr_statement(result.token)
    if scanned is not None and scanned.claims.kind == KIND_LICENCE:
        with ctx.engine.connect() as conn:
            found = public_view_by_statement(conn, scanned, ctx.settings.public_base_url)
        if found is not None and not found[1]["genuine"]:  # sealed after its key's revoked_from
            body["verdict"] = Verdict.SIGNATURE_INVALID.value
            body["checks"] = [c for c in body["checks"] if c["name"] != CheckName.SIGNER_NOT_REVOKED]
            body["checks"].append(_check(CheckName.SIGNER_NOT_REVOKED, False, found[1]["seal_problem"]))
            return body
        if found is not None:
            body["licence"] = found[1]
            body["checks"].append(
                _check(CheckName.ISSUED_HERE, True, "The service has a record of this licence version.")
            )
            return body
    elif scanned is not None and scanned.claims.kind == KIND_RECEIPT:
        with Session(ctx.engine) as s:
            receipt = receipt_by_statement(s, scanned)
        if receipt is not None:
            rec = receipt[0]
            body["receipt"] = {"id": rec.id, "application_number": rec.application_number, "matter": rec.matter}
            body["checks"].append(_check(CheckName.ISSUED_HERE, True, "The service has a record of this receipt."))
            return body
    # A valid signature by one of our keys over something we never recorded: 体外循环.
    body["verdict"] = Verdict.NOT_ISSUED_HERE.value
    body["checks"].append(
        _check(CheckName.ISSUED_HERE, False, "The signature is ours but the service has no record of it.")
    )
    body.pop("claims", None)
    return body


def _check(name: CheckName, ok: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail}
