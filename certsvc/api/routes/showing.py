"""Live showing (亮照): the enterprise makes a short-lived code; anyone who scans it sees the chosen licences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep, EntShowDep
from certsvc.api.errors import http_status, service_error_body
from certsvc.api.models import LinkErrorBody, NewShowOut, ShowPage, error_responses, media
from certsvc.api.responses import qr_png
from certsvc.api.routes.public import wants_json
from certsvc.db.session import session_scope
from certsvc.enterprises import showing
from certsvc.errors import ServiceError
from certsvc.schemas import ShowIn
from certsvc.web import render

router = APIRouter()


@router.post(
    "/api/v1/enterprise/show",
    status_code=201,
    response_model=NewShowOut,
    responses=error_responses(401, 403, 413, 422),
    tags=["enterprises"],
)
def create_show(body: ShowIn, ctx: CtxDep, ent: EntShowDep) -> dict[str, Any]:
    """亮照: a code that shows some, or all current, of your licences for 30-600 seconds (120 by default), to show
    at a counter. Its ``url`` opens the licences' public views (no personal data) and when the code expires;
    afterwards it answers 410. Refused (403) while your business licence is suspended or revoked."""
    with session_scope(ctx.engine) as s:
        new = showing.create_show(
            s,
            ent,
            settings=ctx.settings,
            licence_ids=body.licence_ids,
            all_current=body.all_current,
            expires_in_seconds=body.expires_in_seconds,
        )
        show = new.show
        url = f"{ctx.settings.public_base_url}/l/{new.token}"
        return {
            "id": show.id,
            "url": url,
            "qr_url": f"{url}/qr.png",
            "expires_at": show.expires_at.isoformat(),
            "expires_in_seconds": show.seconds,
            "licence_ids": show.licence_ids,
        }


@router.get(
    "/l/{token}",
    response_model=ShowPage,
    tags=["public"],
    responses={
        200: {"description": "The licences a live code shows", "content": media("text/html", "")[200]["content"]},
        **error_responses(404, 410, model=LinkErrorBody),
    },
)
def show_page(token: str, request: Request, ctx: CtxDep) -> Response:
    """The page a live showing code (亮照) opens: the enterprise, the licences it chose (public views, as on
    ``/e/``) and when the code expires; 410 once it has expired or the business licence is revoked.
    As JSON for ``Accept: application/json``."""
    try:
        with Session(ctx.engine) as s:
            found = showing.shown(s, token, ctx.settings.public_base_url)
    except ServiceError as e:
        status = http_status(e) or 404
        if wants_json(request):
            return JSONResponse(service_error_body(e), status_code=status)
        expired = e.message == showing.EXPIRED
        return HTMLResponse(render("show_gone.html", request=request, status=status, expired=expired), status)
    for licence_id in found.licence_ids:
        ctx.scans.add(licence_id)
    headers = {"Cache-Control": "no-store"}
    if wants_json(request):
        return JSONResponse(found.view, headers=headers)
    return HTMLResponse(render("show.html", request=request, v=found.view), headers=headers)


@router.get(
    "/l/{token}/qr.png",
    tags=["public"],
    response_class=Response,
    responses={**media("image/png", "The live code as a QR code"), **error_responses(404, 410)},
)
def show_qr(token: str, ctx: CtxDep) -> Response:
    """A live showing code as a PNG QR code, while it lasts (404 unknown, 410 expired)."""
    with Session(ctx.engine) as s:
        showing.usable_show(s, token)
    png = qr_png(f"{ctx.settings.public_base_url}/l/{token}")
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
