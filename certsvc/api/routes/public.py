"""Public pages and APIs: no authentication, no personal data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session, select

from certsvc.api.deps import CtxDep
from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion
from certsvc.services.sealing import token_key
from certsvc.services.views import public_view
from certsvc.web import render

router = APIRouter(tags=["public"])


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def lookup_token(s: Session, token: str) -> tuple[Licence, LicenceVersion, LicenceType, Department] | None:
    if len(token) > 1000:
        return None
    ver = s.exec(select(LicenceVersion).where(LicenceVersion.qr_token == token_key(token))).first()
    if ver is None:
        return None
    lic = s.get(Licence, ver.licence_id)
    if lic is None:
        return None
    lt = s.get(LicenceType, lic.licence_type_id)
    dept = s.get(Department, lic.department_id)
    assert lt is not None and dept is not None
    return lic, ver, lt, dept


@router.get("/v/{token}", response_model=None)
def verify_page(token: str, request: Request, ctx: CtxDep) -> Response:
    with Session(ctx.engine) as s:
        found = lookup_token(s, token)
        view: dict[str, Any] | None = public_view(*found, ctx.settings.public_base_url) if found else None
        if found:
            from certsvc.services.counts import count_verification

            count_verification(s, found[0].id)
            s.commit()
    if view is None:
        body = {
            "genuine": False,
            "error": {"code": "not_found", "message": "this code is not a licence of this service"},
        }
        if wants_json(request):
            return JSONResponse(body, status_code=404)
        return HTMLResponse(render("not_found.html", request=request), status_code=404)
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("licence.html", request=request, v=view))


@router.get("/e/{uscc}", response_model=None)
def enterprise_page(uscc: str, request: Request, ctx: CtxDep) -> Response:
    """一码展示: every licence of the holder, current ones first, newest first."""
    from certsvc.services.holders import public_holder_view

    with Session(ctx.engine) as s:
        view = public_holder_view(s, uscc, ctx.settings.public_base_url)
    if view is None:
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": "not_found", "message": "no licences of this code are held at this service"}},
                status_code=404,
            )
        return HTMLResponse(render("not_found.html", request=request), status_code=404)
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("enterprise.html", request=request, e=view))
