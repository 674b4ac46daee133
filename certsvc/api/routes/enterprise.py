"""Enterprise routes (bearer token from activation) and the departments' look-up (共享调用)."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep, DeptDep, EntDep
from certsvc.api.uploads import read_pdf_upload
from certsvc.db.session import session_scope
from certsvc.enterprises import accounts
from certsvc.enterprises.holders import holder_view
from certsvc.enterprises.signature import sign_for_enterprise
from certsvc.errors import BadRequest, Invalid, Unauthorized
from certsvc.schemas import ActivateIn, GrantIn
from certsvc.sharing import grants

router = APIRouter(prefix="/api/v1", tags=["enterprises"])


@router.post("/enterprise/activate")
def activate(body: ActivateIn, ctx: CtxDep) -> dict[str, str]:
    with session_scope(ctx.engine) as s:
        try:
            token = accounts.activate(s, body.uscc, body.activation_code)
        except Unauthorized:
            s.commit()  # keep the failed attempt: it counts towards the rate limit
            raise
    return {"token": token, "note": "shown once: store it safely"}


@router.get("/enterprise/licences")
def my_licences(ctx: CtxDep, ent: EntDep) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        items = holder_view(s, ent.uscc, ctx.settings.public_base_url)
    return {"uscc": ent.uscc, "name": ent.name, "items": items}


@router.post("/enterprise/grants", status_code=201)
def create_grant(body: GrantIn, ctx: CtxDep, ent: EntDep) -> dict[str, Any]:
    base = ctx.settings.public_base_url
    with session_scope(ctx.engine) as s:
        new = grants.create_grant(
            s,
            ent,
            licence_ids=body.licence_ids,
            all_current=body.all_current,
            grantee_name=body.grantee_name,
            grantee_id=body.grantee_id,
            purpose=body.purpose,
            expires_in_days=body.expires_in_days,
            max_downloads=body.max_downloads,
        )
        out = grants.grant_summary(new.grant, base)
    out["share_url"] = f"{base}/s/{new.token}"
    out["qr_url"] = f"{base}/s/{new.token}/qr.png"
    out["note"] = "the share URL is shown once: it is stored only as a hash"
    return out


@router.get("/enterprise/grants")
def list_grants(ctx: CtxDep, ent: EntDep) -> dict[str, Any]:
    from sqlmodel import select

    from certsvc.db.models import Grant

    with Session(ctx.engine) as s:
        rows = s.exec(select(Grant).where(Grant.enterprise_id == ent.id).order_by(Grant.created_at.desc())).all()  # type: ignore[attr-defined]
        return {"items": [grants.grant_summary(g, ctx.settings.public_base_url) for g in rows]}


@router.get("/enterprise/grants/{grant_id}")
def get_grant(grant_id: str, ctx: CtxDep, ent: EntDep) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        return grants.grant_summary(grants.own_grant(s, ent, grant_id), ctx.settings.public_base_url)


@router.delete("/enterprise/grants/{grant_id}")
def revoke_grant(grant_id: str, ctx: CtxDep, ent: EntDep) -> dict[str, Any]:
    with session_scope(ctx.engine) as s:
        return grants.grant_summary(grants.revoke_grant(s, ent, grant_id), ctx.settings.public_base_url)


@router.get("/enterprise/access-log")
def access_log(
    ctx: CtxDep, ent: EntDep, page: int = Query(1, ge=1, le=100000), per_page: int = Query(50, ge=1, le=200)
) -> dict[str, Any]:
    ctx.scans.flush(ctx.engine)  # this process's pending scan counts
    with Session(ctx.engine) as s:
        return accounts.access_log(s, ent, page=page, per_page=per_page)


@router.post("/enterprise/sign")
async def enterprise_sign(
    request: Request, ctx: CtxDep, ent: EntDep, file: UploadFile | None = File(default=None)
) -> Response:
    data = await read_pdf_upload(request, file, ctx.settings.max_upload_bytes)
    signed = await sign_for_enterprise(ctx, ent, data)
    return Response(
        signed, media_type="application/pdf", headers={"Content-Disposition": 'attachment; filename="signed.pdf"'}
    )


@router.get("/enterprises/{uscc}/licences")
def lookup(
    uscc: str,
    ctx: CtxDep,
    dept: DeptDep,
    purpose: str | None = Query(None, max_length=500),
    type: str | None = Query(None, max_length=16),  # noqa: A002 - the SPEC's parameter name
) -> dict[str, Any]:
    """共享调用: another department's licences of a holder, for a stated purpose, logged."""
    from certsvc import audit
    from certsvc.identifiers import IdentifierError, validate_uscc
    from certsvc.licences import status as st

    if not purpose or not purpose.strip():
        raise BadRequest("purpose: required — say why the licences are looked up (共享调用事由)", field="purpose")
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    base = ctx.settings.public_base_url
    with session_scope(ctx.engine) as s:
        items = [
            v
            for v in holder_view(s, uscc, base)
            if v["status"] in (st.VALID, st.SUSPENDED) and (type is None or v["licence_type"] == type.upper())
        ]
        accounts.log_access(s, uscc, "lookup", department_id=dept.id, purpose=purpose.strip())
        audit.record(
            s,
            "licence.lookup",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="holder",
            subject_id=uscc,
            details={"purpose": purpose.strip(), "type": type, "results": len(items)},
        )
    return {"uscc": uscc, "purpose": purpose.strip(), "items": items}


def qr_png(text: str) -> bytes:
    img = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
