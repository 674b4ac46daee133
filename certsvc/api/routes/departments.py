"""Department routes: licence types, issuing, lifecycle, look-ups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlmodel import Session, select

from certsvc import audit
from certsvc.api.deps import CtxDep, DeptDep
from certsvc.api.responses import stored_pdf
from certsvc.db.models import Department, Licence, LicenceType
from certsvc.db.session import session_scope
from certsvc.departments.registry import create_licence_type, licence_type_view
from certsvc.licences import issuance as svc
from certsvc.licences import lifecycle
from certsvc.licences.batch import issue_batch
from certsvc.licences.records import current_version, owned
from certsvc.licences.views import licence_view
from certsvc.schemas import AmendIn, BatchIn, LicenceIn, LicenceTypeIn, ReasonIn, RenewIn

router = APIRouter(prefix="/api/v1", tags=["departments"])


def _issued_body(ctx: CtxDep, issued: svc.Issued) -> dict[str, Any]:
    body = licence_view(
        issued.licence,
        issued.version,
        issued.licence_type,
        issued.department,
        ctx.settings.public_base_url,
        issued.verify_url,
    )
    if issued.activation_code:
        body["activation_code"] = issued.activation_code
    return body


@router.post("/licence-types", status_code=201)
def post_licence_type(body: LicenceTypeIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    with session_scope(ctx.engine) as s:
        lt = create_licence_type(
            s,
            dept,
            code=body.code,
            name=body.name,
            fields=[f.model_dump() for f in body.fields],
            validity_days=body.validity_days,
            reform_mode=body.reform_mode,
        )
        return licence_type_view(lt)


@router.get("/licence-types")
def get_licence_types(ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        rows = s.exec(select(LicenceType).where(LicenceType.department_id == dept.id).order_by(LicenceType.id)).all()
        return {"items": [licence_type_view(lt) for lt in rows]}


@router.post("/licences", status_code=201)
async def post_licence(body: LicenceIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    return _issued_body(ctx, await svc.issue(ctx, dept, body))


@router.post("/licences:batch")
async def post_batch(body: BatchIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    results = await issue_batch(ctx, dept, body.items)
    out = []
    for r in results:
        if isinstance(r, svc.Issued):
            out.append({"ok": True, "status_code": 201, **_issued_body(ctx, r)})
        else:
            err = {"code": r.code, "message": r.message}
            if r.field:
                err["field"] = r.field
            out.append({"ok": False, "status_code": r.status, "error": err})
    return {"results": out, "issued": sum(1 for r in out if r["ok"]), "failed": sum(1 for r in out if not r["ok"])}


def _load(s: Session, dept: Department, licence_id: str) -> tuple[Licence, Any, LicenceType]:
    lic = owned(s, dept, licence_id)
    ver = current_version(s, lic)
    lt = s.get(LicenceType, lic.licence_type_id)
    assert lt is not None
    return lic, ver, lt


@router.get("/licences/{licence_id}")
def get_licence(licence_id: str, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        lic, ver, lt = _load(s, dept, licence_id)
        base = ctx.settings.public_base_url
        return licence_view(lic, ver, lt, dept, base, f"{base}/v/{ver.qr_payload}")


@router.get("/licences/{licence_id}/pdf")
def get_licence_pdf(licence_id: str, ctx: CtxDep, dept: DeptDep) -> Response:
    with session_scope(ctx.engine) as s:
        lic, ver, _lt = _load(s, dept, licence_id)
        audit.record(
            s,
            "licence.download",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence",
            subject_id=lic.id,
            details={"version": ver.version},
        )
    return stored_pdf(ctx, ver.pdf_sha256, f"{lic.number}-v{ver.version}.pdf", "licence")


def _state(ctx: CtxDep, dept: DeptDep, licence_id: str, action: str, body: ReasonIn) -> dict[str, Any]:
    lifecycle.change_state(ctx, dept, licence_id, action, body.reason, body.kind)
    return get_licence(licence_id, ctx, dept)


@router.post("/licences/{licence_id}/suspend")
def suspend(licence_id: str, body: ReasonIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    return _state(ctx, dept, licence_id, "suspend", body)


@router.post("/licences/{licence_id}/resume")
def resume(licence_id: str, body: ReasonIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    return _state(ctx, dept, licence_id, "resume", body)


@router.post("/licences/{licence_id}/revoke")
def revoke(licence_id: str, body: ReasonIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    return _state(ctx, dept, licence_id, "revoke", body)


@router.post("/licences/{licence_id}/renew")
async def renew(licence_id: str, body: RenewIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    issued = await lifecycle.new_version(
        ctx, dept, licence_id, action="renew", valid_until=body.valid_until, reason=body.reason
    )
    return _issued_body(ctx, issued)


@router.post("/licences/{licence_id}/amend")
async def amend(licence_id: str, body: AmendIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    issued = await lifecycle.new_version(
        ctx, dept, licence_id, action="amend", fields=body.fields, holder_name=body.holder_name, reason=body.reason
    )
    return _issued_body(ctx, issued)
