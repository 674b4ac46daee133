"""Department routes: licence types, issuing, lifecycle, look-ups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep, DeptDep
from certsvc.api.errors import http_status, service_error_body
from certsvc.api.models import (
    BatchOut,
    LicenceOut,
    LicenceRegister,
    LicenceTypeList,
    LicenceTypeOut,
    LicenceVersionList,
    error_responses,
    media,
)
from certsvc.api.paging import PageDep
from certsvc.api.responses import stored_pdf
from certsvc.db.session import session_scope
from certsvc.departments.registry import create_licence_type, licence_type_view, licence_types_page
from certsvc.events.subscriptions import licence_feedback
from certsvc.licences import issuance as svc
from certsvc.licences import lifecycle, records, register
from certsvc.licences.batch import issue_batch
from certsvc.licences.views import licence_view
from certsvc.reform.commitments import licence_commitment
from certsvc.schemas import AmendIn, BatchIn, LicenceIn, LicenceTypeIn, ReasonIn, RenewIn

router = APIRouter(prefix="/api/v1", tags=["departments"])

# Every licence answer: the record, plus ``verify_url`` and (business licences) ``activation_code``
# only where the service gave them.
LICENCE: dict[str, Any] = {"response_model": LicenceOut, "response_model_exclude_unset": True}


def issued_body(ctx: CtxDep, issued: svc.Issued) -> dict[str, Any]:
    """A licence just issued, as the answer shows it (with its activation code and commitment, if any)."""
    base = ctx.settings.public_base_url
    body = licence_view(issued.licence, issued.version, issued.licence_type, issued.department, base)
    if issued.activation_code:
        body["activation_code"] = issued.activation_code
    if issued.licence_type.reform_mode == "commitment":
        with Session(ctx.engine) as s:
            commitment = licence_commitment(s, issued.licence.id, base)
        if commitment is not None:
            body["commitment"] = commitment
    return body


@router.post(
    "/licence-types",
    status_code=201,
    response_model=LicenceTypeOut,
    responses=error_responses(401, 409, 413, 422),
)
def post_licence_type(body: LicenceTypeIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Define a licence type (证照类型) of your department: its fields, validity in days and reform mode.
    Its code is unique across all departments (409 if taken): licences name their type by it. A type in
    ``commitment`` mode (实行告知承诺) carries ``commitment``: its text, ``conditions_due_days`` and
    ``on_overdue`` (``flag`` or ``suspend``)."""
    with session_scope(ctx.engine) as s:
        lt = create_licence_type(
            s,
            dept,
            code=body.code,
            name=body.name,
            fields=[f.model_dump() for f in body.fields],
            validity_days=body.validity_days,
            reform_mode=body.reform_mode,
            commitment=body.commitment.model_dump() if body.commitment else None,
        )
        return licence_type_view(lt)


@router.get("/licence-types", response_model=LicenceTypeList, responses=error_responses(401, 422))
def get_licence_types(ctx: CtxDep, dept: DeptDep, page: PageDep) -> dict[str, Any]:
    """The licence types your department has defined, oldest first."""
    with Session(ctx.engine) as s:
        return licence_types_page(s, dept, page)


@router.get("/licences", response_model=LicenceRegister, responses=error_responses(401, 422))
def get_register(
    ctx: CtxDep,
    dept: DeptDep,
    page: PageDep,
    status: str | None = Query(None, max_length=16, description="valid, expired, suspended or revoked"),
    type: str | None = Query(None, max_length=16, description="a licence type code of your department"),
    holder_uscc: str | None = Query(None, max_length=32, description="the holder's USCC"),
    number: str | None = Query(None, max_length=64, description="a licence number (证照编号), exactly"),
    q: str | None = Query(None, max_length=200, description="part of a holder name or licence number"),
) -> dict[str, Any]:
    """Your department's register (登记簿): the licences it issued, newest first, each at its current version,
    matching every filter given. Superseded versions are not listed here: each licence's history is at
    ``/licences/{id}/versions``. Paged with ``limit`` and ``cursor``."""
    f = register.RegisterFilter(status=status, type=type, holder_uscc=holder_uscc, number=number, q=q)
    with Session(ctx.engine) as s:
        return register.register(s, dept, f, page, ctx.settings.public_base_url)


@router.post("/licences", status_code=201, **LICENCE, responses=error_responses(401, 409, 413, 422))
async def post_licence(body: LicenceIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Issue (签发) one licence: a PDF sealed with your department's seal, with a QR code to verify it.
    For a business licence (营业执照) the answer also carries the holder's activation code, shown this once."""
    return issued_body(ctx, await svc.issue(ctx, dept, body))


@router.post(
    "/licences:batch",
    response_model=BatchOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 413, 422),
)
async def post_batch(body: BatchIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Issue up to 500 licences in one call (back-filling, bulk approvals); each item is a ``POST /licences`` body.
    Items succeed or fail on their own: 200 with one result per item, in order, the licence or its error."""
    results = await issue_batch(ctx, dept, body.items)
    out = []
    for r in results:
        if isinstance(r, svc.Issued):
            out.append({"ok": True, "status_code": 201, **issued_body(ctx, r)})
        else:
            out.append({"ok": False, "status_code": http_status(r) or 500, **service_error_body(r)})
    return {"results": out, "issued": sum(1 for r in out if r["ok"]), "failed": sum(1 for r in out if not r["ok"])}


@router.get("/licences/{licence_id}", **LICENCE, responses=error_responses(401, 404))
def get_licence(licence_id: str, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """The current version of one of your department's licences; 404 for another department's."""
    with Session(ctx.engine) as s:
        lic, ver, lt = records.owned_current(s, dept, licence_id)
        body = licence_view(lic, ver, lt, dept, ctx.settings.public_base_url)
        commitment = licence_commitment(s, lic.id, ctx.settings.public_base_url)
        body["feedback"] = licence_feedback(s, lic.id)
    if commitment is not None:
        body["commitment"] = commitment
    return body


@router.get(
    "/licences/{licence_id}/pdf",
    response_class=Response,
    responses={**media("application/pdf", "The sealed PDF of the current version"), **error_responses(401, 404)},
)
def get_licence_pdf(
    licence_id: str,
    ctx: CtxDep,
    dept: DeptDep,
    version: int | None = Query(None, ge=1, le=1_000_000, description="a version number; the current one if absent"),
) -> Response:
    """Download the sealed PDF of a licence's current version, or of ``version`` (404 naming it if the licence
    has no such version). The download is audited."""
    with session_scope(ctx.engine) as s:
        if version is None:
            lic, ver = records.download(s, dept, licence_id)
        else:
            lic, ver = register.download_version(s, dept, licence_id, version)
    return stored_pdf(ctx, ver.stored_sha256, f"{lic.number}-v{ver.version}.pdf", "licence")


@router.get(
    "/licences/{licence_id}/versions", response_model=LicenceVersionList, responses=error_responses(401, 404, 422)
)
def get_versions(licence_id: str, ctx: CtxDep, dept: DeptDep, page: PageDep) -> dict[str, Any]:
    """Every version of one of your licences, oldest first: its identifier, status, fingerprint, when it was
    issued and superseded, and the URL of its PDF."""
    with Session(ctx.engine) as s:
        return register.versions(s, dept, licence_id, page, ctx.settings.public_base_url)


def _state(ctx: CtxDep, dept: DeptDep, licence_id: str, action: str, body: ReasonIn) -> dict[str, Any]:
    lifecycle.change_state(ctx, dept, licence_id, action, body.reason, body.kind)
    return get_licence(licence_id, ctx, dept)


CHANGE = error_responses(401, 404, 409, 413, 422)


@router.post("/licences/{licence_id}/suspend", **LICENCE, responses=CHANGE)
def suspend(licence_id: str, body: ReasonIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Suspend (暂停) a valid licence, giving the reason; verifiers see it at once through the status list."""
    return _state(ctx, dept, licence_id, "suspend", body)


@router.post("/licences/{licence_id}/resume", **LICENCE, responses=CHANGE)
def resume(licence_id: str, body: ReasonIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Resume (恢复) a suspended licence, giving the reason."""
    return _state(ctx, dept, licence_id, "resume", body)


@router.post("/licences/{licence_id}/revoke", **LICENCE, responses=CHANGE)
def revoke(licence_id: str, body: ReasonIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Revoke a valid or suspended licence for good, giving the reason; ``kind`` is 撤销, 吊销 or 注销
    (by default the one the reason names, else 撤销)."""
    return _state(ctx, dept, licence_id, "revoke", body)


@router.post("/licences/{licence_id}/renew", **LICENCE, responses=CHANGE)
async def renew(licence_id: str, body: RenewIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Renew (延续) a licence to a later ``valid_until``: a new sealed version supersedes the current one."""
    issued = await lifecycle.new_version(
        ctx, dept, licence_id, action="renew", valid_until=body.valid_until, reason=body.reason
    )
    return issued_body(ctx, issued)


@router.post("/licences/{licence_id}/amend", **LICENCE, responses=CHANGE)
async def amend(licence_id: str, body: AmendIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Amend (变更) a licence's fields or holder name: a new sealed version supersedes the current one.
    An empty or null value removes a field; a revoked licence cannot be amended (409)."""
    issued = await lifecycle.new_version(
        ctx, dept, licence_id, action="amend", fields=body.fields, holder_name=body.holder_name, reason=body.reason
    )
    return issued_body(ctx, issued)
