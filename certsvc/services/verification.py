"""Verification as the service answers it: the PDF verdict from ``verify`` plus what the
database knows (the licence's status now, the grant a marked copy was made for)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from certsvc.context import Context
from certsvc.db.models import Department, Grant, Licence, LicenceType, LicenceVersion, Receipt
from certsvc.services.enterprises import grant_state
from certsvc.services.trust import trust_for
from certsvc.services.views import public_view
from verify.report import Report
from verify.verifier import verify_pdf

MARK_FIELD_PREFIX = "Mark-"


def is_issued_in(s: Session):  # noqa: ANN201
    def _is_issued(sha256: str) -> bool:
        if s.exec(select(LicenceVersion.id).where(LicenceVersion.pdf_sha256 == sha256)).first():
            return True
        return s.exec(select(Receipt.id).where(Receipt.pdf_sha256 == sha256)).first() is not None

    return _is_issued


def licence_by_sha(s: Session, sha256: str, base_url: str) -> dict[str, Any] | None:
    ver = s.exec(select(LicenceVersion).where(LicenceVersion.pdf_sha256 == sha256)).first()
    if ver is None:
        return None
    lic = s.get(Licence, ver.licence_id)
    assert lic is not None
    lt = s.get(LicenceType, lic.licence_type_id)
    dept = s.get(Department, lic.department_id)
    assert lt is not None and dept is not None
    return public_view(lic, ver, lt, dept, base_url)


def grant_view(g: Grant) -> dict[str, Any]:
    state = grant_state(g)
    return {
        "id": g.id,
        "grantee_name": g.grantee_name,
        "purpose": g.purpose,
        "expires_at": g.expires_at.isoformat(),
        "active": state == "active",
        "state": state,
    }


def _report_body(ctx: Context, s: Session, report: Report) -> dict[str, Any]:
    body = report.to_dict()
    seal = report.seal
    if seal is not None and seal.revision_sha256:
        lic = licence_by_sha(s, seal.revision_sha256, ctx.settings.public_base_url)
        if lic:
            body["licence"] = lic
        else:
            rec = s.exec(select(Receipt).where(Receipt.pdf_sha256 == seal.revision_sha256)).first()
            if rec:
                body["receipt"] = {
                    "id": rec.id,
                    "application_number": rec.application_number,
                    "matter": rec.matter,
                    "issued_at": rec.issued_at.isoformat(),
                }
    for field in report.service_signature_fields:
        if field.startswith(MARK_FIELD_PREFIX):
            g = s.get(Grant, field[len(MARK_FIELD_PREFIX) :])
            if g is not None:
                body["grant"] = grant_view(g)
    return body


def verify_bytes(ctx: Context, data: bytes) -> dict[str, Any]:
    trust = trust_for(ctx.engine)
    with Session(ctx.engine) as s:
        report = verify_pdf(data, trust, is_issued_in(s), timeout_s=ctx.settings.verify_timeout_s)
        return _report_body(ctx, s, report)


async def verify_upload(ctx: Context, data: bytes) -> dict[str, Any]:
    return await asyncio.to_thread(verify_bytes, ctx, data)


def verify_file_cli(path: Path, *, offline: bool = False) -> int:
    """``certsvc verify FILE``: print the verdict; exit 0 only for a genuine, current licence."""
    from certsvc.core.config import get_settings

    data = path.read_bytes()
    if offline:
        from verify.offline import verify_offline

        result = verify_offline(data, get_settings().data_dir)
    else:
        ctx = Context(get_settings())
        result = verify_bytes(ctx, data)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    ok = result.get("verdict") == "genuine" and result.get("licence", {}).get("status", "valid") == "valid"
    return 0 if ok else 1
