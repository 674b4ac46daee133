"""Enterprise routes (bearer token from activation) and the departments' look-up (共享调用)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from certsvc.api.deps import ClientDep, CtxDep, DeptDep, EntGrantsDep, EntReadDep, EntSignDep
from certsvc.api.models import (
    AccessLog,
    ActivationOut,
    EnterpriseReceipts,
    GrantList,
    GrantOut,
    HeldLicences,
    LookupOut,
    NewGrantOut,
    error_responses,
    media,
)
from certsvc.api.paging import PageDep
from certsvc.api.responses import content_disposition, qr_png, stored_pdf
from certsvc.api.uploads import read_pdf_upload
from certsvc.db.session import session_scope
from certsvc.enterprises import accounts
from certsvc.enterprises.files import original_filename, own_original, own_receipt, receipt_filename
from certsvc.enterprises.holders import holder_page, shared_lookup
from certsvc.enterprises.signature import Placement, SignOptions, sign_for_enterprise, signed_filename
from certsvc.errors import Unauthorized
from certsvc.receipts.materials import enterprise_receipts
from certsvc.schemas import ActivateIn, GrantIn
from certsvc.sharing import grants

router = APIRouter(prefix="/api/v1", tags=["enterprises"])


@router.post("/enterprise/activate", response_model=ActivationOut, responses=error_responses(401, 413, 422, 429))
def activate(body: ActivateIn, ctx: CtxDep, client: ClientDep) -> dict[str, str]:
    """Exchange the one-time activation code of a business licence for the enterprise's API token (shown once).
    After 10 failed attempts from one client address within 15 minutes, that address gets 429 (with
    ``Retry-After``) until they age out; failures from other addresses never lock out the holder."""
    limits = accounts.ActivationLimits.from_settings(ctx.settings)
    with session_scope(ctx.engine) as s:
        try:
            token = accounts.activate(s, body.uscc, body.activation_code, client, limits)
        except Unauthorized:
            s.commit()  # keep the failed attempt: it counts towards the rate limit
            raise
    return {"token": token, "note": "shown once: store it safely"}


@router.get(
    "/enterprise/licences",
    response_model=HeldLicences,
    response_model_exclude_unset=True,
    responses=error_responses(401, 403, 422),
)
def my_licences(ctx: CtxDep, ent: EntReadDep, page: PageDep) -> dict[str, Any]:
    """一企一档: every licence your enterprise holds, whatever its status, newest first (by first issue)."""
    with Session(ctx.engine) as s:
        found = holder_page(s, ent.uscc, ctx.settings.public_base_url, page, own=True)
    return {"uscc": ent.uscc, "name": ent.name, "items": found.items, "next_cursor": found.next_cursor}


@router.get(
    "/enterprise/licences/{licence_id}/pdf",
    response_class=Response,
    responses={
        **media("application/pdf", "The sealed original of the licence's current version"),
        **error_responses(401, 403, 404),
    },
)
def my_licence_pdf(licence_id: str, ctx: CtxDep, ent: EntReadDep) -> Response:
    """Download the sealed original of a licence your enterprise holds, whatever its status (the download is
    audited and written to your access log); another holder's licence is 404."""
    with session_scope(ctx.engine) as s:
        lic, ver = own_original(s, ent, licence_id)
        name = original_filename(lic, ver)
    return stored_pdf(ctx, ver.stored_sha256, name, "licence")


@router.get("/enterprise/receipts", response_model=EnterpriseReceipts, responses=error_responses(401, 403, 422))
def my_receipts(ctx: CtxDep, ent: EntReadDep, page: PageDep) -> dict[str, Any]:
    """Your enterprise's acceptance receipts (受理回执), newest first, each with the materials still to hand in
    (容缺受理) and their due dates: ``outstanding``, ``overdue`` once past due, or ``received``."""
    with Session(ctx.engine) as s:
        return enterprise_receipts(s, ent, ctx.settings.public_base_url, page)


@router.get(
    "/enterprise/receipts/{receipt_id}/pdf",
    response_class=Response,
    responses={**media("application/pdf", "The sealed acceptance receipt"), **error_responses(401, 403, 404)},
)
def my_receipt_pdf(receipt_id: str, ctx: CtxDep, ent: EntReadDep) -> Response:
    """Download the sealed PDF of an acceptance receipt issued to your enterprise (the download is audited);
    another applicant's receipt is 404."""
    with session_scope(ctx.engine) as s:
        rec = own_receipt(s, ent, receipt_id)
        name, sha = receipt_filename(rec), rec.pdf_sha256
    return stored_pdf(ctx, sha, name, "receipt")


@router.post(
    "/enterprise/grants", status_code=201, response_model=NewGrantOut, responses=error_responses(401, 403, 413, 422)
)
def create_grant(body: GrantIn, ctx: CtxDep, ent: EntGrantsDep) -> dict[str, Any]:
    """Share some, or all current, licences with a grantee (授权) for a purpose, 1-90 days (30 by default), with an
    optional download limit. Only licences valid now may be shared (422 naming ``licence_ids`` otherwise). The
    share link is stored hashed and sealed: its QR code stays available to you at the grant's ``qr_url``."""
    base = ctx.settings.public_base_url
    with session_scope(ctx.engine) as s:
        new = grants.create_grant(
            s,
            ent,
            settings=ctx.settings,
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
    out["note"] = "keep the share URL safe: anyone who has it can download within the grant's limits"
    return out


@router.get("/enterprise/grants", response_model=GrantList, responses=error_responses(401, 403, 422))
def list_grants(ctx: CtxDep, ent: EntReadDep, page: PageDep) -> dict[str, Any]:
    """Your enterprise's grants, newest first, each with its state (active, revoked, expired, exhausted)."""
    with Session(ctx.engine) as s:
        return grants.grants_page(s, ent, page).answer(lambda g: grants.grant_summary(g, ctx.settings.public_base_url))


@router.get("/enterprise/grants/{grant_id}", response_model=GrantOut, responses=error_responses(401, 403, 404))
def get_grant(grant_id: str, ctx: CtxDep, ent: EntReadDep) -> dict[str, Any]:
    """One of your enterprise's grants."""
    with Session(ctx.engine) as s:
        return grants.grant_summary(grants.own_grant(s, ent, grant_id), ctx.settings.public_base_url)


@router.get(
    "/enterprise/grants/{grant_id}/qr.png",
    response_class=Response,
    responses={**media("image/png", "The grant's share link as a QR code"), **error_responses(401, 403, 404)},
)
def grant_qr(grant_id: str, ctx: CtxDep, ent: EntGrantsDep) -> Response:
    """One of your grants' share link as a PNG QR code, to print or show (404 for a grant made before share
    links were kept: its link was shown only when it was made). The link downloads the licences, so it takes
    the scope that makes grants (``grants:write``), not ``licences:read``."""
    with Session(ctx.engine) as s:
        url = grants.share_url_of(s, ctx.settings, ent, grant_id)
    return Response(qr_png(url), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.delete("/enterprise/grants/{grant_id}", response_model=GrantOut, responses=error_responses(401, 403, 404))
def revoke_grant(grant_id: str, ctx: CtxDep, ent: EntGrantsDep) -> dict[str, Any]:
    """Revoke one of your grants: its share link stops working at once. Answers the grant as it now is."""
    with session_scope(ctx.engine) as s:
        return grants.grant_summary(grants.revoke_grant(s, ent, grant_id), ctx.settings.public_base_url)


@router.get("/enterprise/access-log", response_model=AccessLog, responses=error_responses(401, 403, 422))
def access_log(ctx: CtxDep, ent: EntReadDep, page: PageDep) -> dict[str, Any]:
    """Who accessed your licences (grant downloads, department look-ups), newest first, with daily QR scan counts."""
    ctx.scans.flush(ctx.engine)  # this process's pending scan counts
    ctx.denials.flush(ctx.engine)  # and refused attempts
    with Session(ctx.engine) as s:
        return accounts.access_log_page(s, ent, page)


SIGN_PAGE = "Page to sign on, numbered from 1; -1 (the default) is the last page."
SIGN_X = (
    "Where the seal's centre goes: millimetres from the page's left edge (with ``y``). "
    "Without ``x``, ``y`` and ``field``: the lower right corner, beside any signature already there."
)
SIGN_Y = "Where the seal's centre goes: millimetres from the page's top edge (with ``x``)."
SIGN_POSITION = (
    "Instead of ``x`` and ``y``, a named position within 12.7 mm of the page's edges: bottom-right (the default), "
    "bottom-centre, bottom-left, top-right, top-left or centre."
)
SIGN_FIELD = (
    "The name of an empty signature field in the PDF to sign in, instead of a position (``page`` is then ignored)."
)


@router.post(
    "/enterprise/sign",
    response_class=Response,
    responses={
        **media(
            "application/pdf",
            "The PDF signed with the enterprise's business-licence certificate, as an attachment named after "
            "the upload (``<name>-signed.pdf``)",
        ),
        **error_responses(401, 403, 404, 409, 413, 422),
    },
)
async def enterprise_sign(
    request: Request,
    ctx: CtxDep,
    ent: EntSignDep,
    file: UploadFile | None = File(default=None, description="The PDF to sign."),
    page: int = Form(-1, ge=-1, le=100000, description=SIGN_PAGE),
    x: float | None = Form(None, ge=0, le=5000, allow_inf_nan=False, description=SIGN_X),
    y: float | None = Form(None, ge=0, le=5000, allow_inf_nan=False, description=SIGN_Y),
    position: str | None = Form(None, max_length=20, description=SIGN_POSITION),
    field: str | None = Form(None, max_length=200, description=SIGN_FIELD),
    reason: str | None = Form(
        None,
        max_length=200,
        description='The signature\'s reason (签章事由); by default "<enterprise> 电子营业执照签章".',
    ),
    location: str | None = Form(None, max_length=200, description="The signature's location (签章地点), if any."),
) -> Response:
    """Sign a PDF of your own (multipart field ``file``) with your business-licence certificate: its red round
    seal with your name and the signing time below it, on the ``page`` and at the position (``x``, ``y`` in mm)
    you choose, or in an empty signature ``field``; by default at the lower right of the last page. A PDF already
    signed (by another enterprise too) gets one more signature in an incremental update, the earlier ones intact.
    422 names the parameter that cannot be honoured (a page the PDF lacks, a position off the page, a field it
    lacks or that is signed); 404 if the enterprise has no certificate."""
    data = await read_pdf_upload(request, file, ctx.settings.max_upload_bytes)
    options = SignOptions(Placement(page, x, y, field or None, position or None), reason, location)
    signed = await sign_for_enterprise(ctx, ent, data, options)
    name = signed_filename(file.filename if file is not None else None)
    return Response(signed, media_type="application/pdf", headers={"Content-Disposition": content_disposition(name)})


@router.get(
    "/enterprises/{uscc}/licences",
    response_model=LookupOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 422),
)
def lookup(
    uscc: str,
    ctx: CtxDep,
    dept: DeptDep,
    page: PageDep,
    purpose: str | None = Query(None, max_length=500),
    type: str | None = Query(None, max_length=16),  # the SPEC's parameter name
) -> dict[str, Any]:
    """共享调用: another department's current licences of a holder, for a stated purpose, logged; newest first."""
    with session_scope(ctx.engine) as s:
        base = ctx.settings.public_base_url
        return shared_lookup(s, dept, uscc, purpose=purpose, type_code=type, base_url=base, page=page)
