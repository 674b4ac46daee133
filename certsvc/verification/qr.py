"""``POST /verify/qr``: the offline check of the signed payload, then what the record says now."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from certsvc.context import Context
from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion, Receipt
from certsvc.licences.views import public_view
from certsvc.metrics import VERIFICATIONS
from certsvc.security import token_key
from certsvc.verification.trust import trust_for
from verify.qr import QrResult, verify_qr_text
from verify.report import CheckName, Verdict


def verify_qr(ctx: Context, text: str) -> dict[str, Any]:
    """Verify a scanned QR text, adding what the service recorded of it: a valid seal alone is not proof of issue."""
    result = verify_qr_text(text.strip(), trust_for(ctx.engine))
    body = result.to_dict()
    try:
        return _with_record(ctx, result, body)
    finally:
        VERIFICATIONS.labels("qr", body["verdict"]).inc()


def _with_record(ctx: Context, result: QrResult, body: dict[str, Any]) -> dict[str, Any]:
    if not result.genuine or result.token is None:
        return body
    key = token_key(result.token)
    with Session(ctx.engine) as s:
        ver = s.exec(select(LicenceVersion).where(LicenceVersion.qr_token == key)).first()
        if ver is not None:
            lic = s.get(Licence, ver.licence_id)
            assert lic is not None
            lt = s.get(LicenceType, lic.licence_type_id)
            dept = s.get(Department, lic.department_id)
            assert lt is not None and dept is not None
            body["licence"] = public_view(lic, ver, lt, dept, ctx.settings.public_base_url)
            body["checks"].append(
                _check(CheckName.ISSUED_HERE, True, "The service has a record of this licence version.")
            )
            return body
        rec = s.exec(select(Receipt).where(Receipt.qr_token == key)).first()
        if rec is not None:
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
