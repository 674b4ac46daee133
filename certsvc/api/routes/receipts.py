"""Acceptance receipts (受理回执) for departments, and their public verify page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep, DeptDep
from certsvc.api.models import LinkErrorBody, ReceiptPublic, TrackedReceipt, error_responses, media
from certsvc.api.models.matters import TrackedReceiptList
from certsvc.api.paging import PageDep
from certsvc.api.responses import stored_pdf
from certsvc.api.routes.public import wants_json
from certsvc.db.session import session_scope
from certsvc.receipts import issuance as receipts
from certsvc.receipts.issuance import issue_receipt, own_receipt, receipt_by_token, receipt_view
from certsvc.receipts.materials import department_receipts, department_view, record_received
from certsvc.schemas import MaterialReceivedIn, ReceiptIn
from certsvc.web import render

router = APIRouter(tags=["receipts"])


@router.post(
    "/api/v1/receipts", status_code=201, response_model=TrackedReceipt, responses=error_responses(401, 409, 413, 422)
)
async def post_receipt(body: ReceiptIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Issue an acceptance receipt (受理回执) for an application: the materials received and those still missing,
    with due dates (容缺受理, tracked until received), in a PDF sealed with your department's seal and a QR code."""
    rec, _url = await issue_receipt(ctx, dept, body)
    with Session(ctx.engine) as s:
        return department_view(s, rec, dept, ctx.settings.public_base_url)


@router.get("/api/v1/receipts", response_model=TrackedReceiptList, responses=error_responses(401, 422))
def list_receipts(
    ctx: CtxDep,
    dept: DeptDep,
    page: PageDep,
    state: str | None = Query(None, max_length=16, description="the materials' state: pending, overdue or complete"),
) -> dict[str, Any]:
    """Your department's acceptance receipts, newest first, each with its missing materials tracked."""
    with Session(ctx.engine) as s:
        return department_receipts(s, dept, page, ctx.settings.public_base_url, state=state)


@router.get("/api/v1/receipts/{receipt_id}", response_model=TrackedReceipt, responses=error_responses(401, 404))
def get_receipt(receipt_id: str, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """One of your department's acceptance receipts, with its missing materials: received, outstanding or overdue."""
    with Session(ctx.engine) as s:
        return department_view(s, own_receipt(s, dept, receipt_id), dept, ctx.settings.public_base_url)


@router.post(
    "/api/v1/receipts/{receipt_id}/materials",
    response_model=TrackedReceipt,
    responses=error_responses(401, 404, 409, 413, 422),
)
def post_material_received(receipt_id: str, body: MaterialReceivedIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Record a missing material (容缺) of one of your receipts as received. 422 if the receipt does not list it
    as missing, 409 if it was recorded already; when every one is received the receipt is ``complete``."""
    with session_scope(ctx.engine) as s:
        rec = record_received(s, dept, receipt_id, body.name)
        return department_view(s, rec, dept, ctx.settings.public_base_url)


@router.get(
    "/api/v1/receipts/{receipt_id}/pdf",
    response_class=Response,
    responses={**media("application/pdf", "The sealed receipt PDF"), **error_responses(401, 404)},
)
def get_receipt_pdf(receipt_id: str, ctx: CtxDep, dept: DeptDep) -> Response:
    """Download the sealed PDF of one of your department's acceptance receipts (the download is audited)."""
    with session_scope(ctx.engine) as s:
        rec = receipts.download(s, dept, receipt_id)
    return stored_pdf(ctx, rec.pdf_sha256, f"receipt-{rec.application_number}.pdf", "receipt")


@router.get(
    "/r/{token}",
    response_model=ReceiptPublic,
    responses={
        200: {"description": "The receipt a QR code names", "content": media("text/html", "")[200]["content"]},
        **error_responses(404, model=LinkErrorBody),
    },
)
def receipt_page(token: str, request: Request, ctx: CtxDep) -> Response:
    """The page a receipt's QR code opens: the matter, applicant, department and date.
    As JSON for ``Accept: application/json``."""
    with Session(ctx.engine) as s:
        found = receipt_by_token(s, token)
        view = receipt_view(*found, ctx.settings.public_base_url) if found else None
    if view is None:
        if wants_json(request):
            return JSONResponse(
                {"genuine": False, "error": {"code": "not_found", "message": "not a receipt of this service"}},
                status_code=404,
            )
        return HTMLResponse(render("not_found.html", request=request, what="receipt"), status_code=404)
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("receipt.html", request=request, r=view))
