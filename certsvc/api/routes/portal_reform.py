"""The portal's 证照分离 pages: file a filing (备案), sign a commitment (告知承诺), and see both."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep
from certsvc.api.portal import session as web_session
from certsvc.api.portal.forms import FormDep, text
from certsvc.api.portal.pages import error_page, error_status, page, redirect
from certsvc.api.responses import stored_pdf
from certsvc.db.session import session_scope
from certsvc.errors import ServiceError
from certsvc.reform import commitments, filing
from certsvc.reform.portal import commitment_page, filing_page

router = APIRouter(prefix="/portal", include_in_schema=False)

FIELD_PREFIX = "f."


@router.get("/filings", response_class=HTMLResponse)
def filings(request: Request, ctx: CtxDep) -> Response:
    """The types one may file for, the chosen type's form, and the enterprise's 备案凭证."""
    q = request.query_params
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        view = filing_page(s, sess.enterprise, ctx.settings.public_base_url, q.get("department", ""), q.get("type", ""))
    notice = "备案成功，备案凭证已签章 · Filed: the proof of filing is sealed." if q.get("filed") else None
    return page(ctx, "portal_filings.html", s=sess, nav="filings", v=view, notice=notice, form={})


@router.post("/filings", response_class=HTMLResponse)
async def file(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """File from the form; the page again with the new 备案凭证, or saying what to fix."""
    sess, refused = web_session.signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None and form is not None
    department, code = text(form, "department", 16), text(form, "licence_type", 16)
    fields = {k[len(FIELD_PREFIX) :]: text(form, k, 2000) for k in form if k.startswith(FIELD_PREFIX)}
    try:
        issued = await filing.file(ctx, sess.enterprise, department, code, fields)
    except ServiceError as e:
        web_session.refused(request, e)  # a credit restriction is a denied attempt here too
        with Session(ctx.engine) as s:
            view = filing_page(s, sess.enterprise, ctx.settings.public_base_url, department, code)
        return page(
            ctx, "portal_filings.html", error_status(e), s=sess, nav="filings", v=view, error=e.message, form=fields
        )
    return redirect(ctx, f"/portal/filings?filed={issued.licence.id}")


@router.get("/commitments", response_class=HTMLResponse)
def commitments_page(request: Request, ctx: CtxDep) -> Response:
    """The types in commitment mode, the chosen type's text to sign, and the enterprise's commitments."""
    q = request.query_params
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        view = commitment_page(
            s, sess.enterprise, ctx.settings.public_base_url, q.get("department", ""), q.get("type", "")
        )
    signed = q.get("signed")
    notice = (
        f"承诺书已签章，请将编号 {signed} 交给审批部门 · Signed: give the department the commitment id {signed}."
        if signed and len(signed) <= 64
        else None
    )
    return page(ctx, "portal_commitments.html", s=sess, nav="commitments", v=view, notice=notice, signed=signed)


@router.post("/commitments", response_class=HTMLResponse)
async def sign(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """Sign the chosen type's commitment with the business-licence signature."""
    sess, refused = web_session.signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None and form is not None
    department, code = text(form, "department", 16), text(form, "licence_type", 16)
    try:
        c = await commitments.sign_commitment(ctx, sess.enterprise, department, code)
    except ServiceError as e:
        web_session.refused(request, e)  # a credit restriction is a denied attempt here too
        with Session(ctx.engine) as s:
            view = commitment_page(s, sess.enterprise, ctx.settings.public_base_url, department, code)
        return page(ctx, "portal_commitments.html", error_status(e), s=sess, nav="commitments", v=view, error=e.message)
    return redirect(ctx, f"/portal/commitments?signed={c.id}")


@router.get("/commitments/{commitment_id}.pdf")
def commitment_pdf(commitment_id: str, request: Request, ctx: CtxDep) -> Response:
    """The enterprise's signed commitment PDF."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            c = commitments.own_commitment(s, sess.enterprise, commitment_id)
        except ServiceError:
            return error_page(ctx, 404, "没有这份承诺书 · No such commitment.", sess=sess)
    return stored_pdf(ctx, c.pdf_sha256, f"告知承诺书-{c.id}.pdf", "commitment")
