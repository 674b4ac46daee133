"""证照分离 routes: credit restrictions (信用约束), filings (备案) and commitments (告知承诺)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep, DeptDep, EntCommitmentsDep, EntFilingsDep, EntReadDep
from certsvc.api.models import LicenceOut, error_responses, media
from certsvc.api.models.reform import (
    CommitmentList,
    CommitmentOut,
    CommitmentTextOut,
    CreditRestrictionList,
    CreditRestrictionOut,
)
from certsvc.api.paging import PageDep
from certsvc.api.responses import stored_pdf
from certsvc.api.routes.departments import issued_body
from certsvc.db.session import session_scope
from certsvc.reform import commitments, credit, filing
from certsvc.schemas import CommitmentIn, CommitmentResultIn, CreditRestrictionIn, FilingIn

router = APIRouter(prefix="/api/v1", tags=["证照分离"])
public_router = APIRouter(tags=["public"])

PDF = media("application/pdf", "The commitment (告知承诺书) signed with the enterprise's business-licence signature")


# --- credit restrictions (by a credit department) ------------------------------------------


@router.post(
    "/credit-restrictions",
    status_code=201,
    response_model=CreditRestrictionOut,
    responses=error_responses(401, 403, 413, 422),
)
def add_restriction(body: CreditRestrictionIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Put a holder on the serious-dishonesty list (信用约束) until ``until`` (inclusive, China date): commitment,
    filing and 容缺 are refused for it (409 ``credit_restricted``). Only a department created with ``--credit``."""
    with session_scope(ctx.engine) as s:
        return credit.restriction_view(
            credit.add_restriction(s, dept, uscc=body.uscc, reason=body.reason, until=body.until)
        )


@router.get("/credit-restrictions", response_model=CreditRestrictionList, responses=error_responses(401, 403, 422))
def list_restrictions(
    ctx: CtxDep,
    dept: DeptDep,
    page: PageDep,
    uscc: str | None = Query(None, max_length=32),
) -> dict[str, Any]:
    """The credit restrictions, newest first (lifted and ended ones too, with ``active``); only credit departments."""
    with Session(ctx.engine) as s:
        return credit.list_restrictions(s, dept, page, uscc=uscc)


@router.delete(
    "/credit-restrictions/{restriction_id}",
    response_model=CreditRestrictionOut,
    responses=error_responses(401, 403, 404),
)
def lift_restriction(restriction_id: str, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Lift a restriction your department added: the holder may use commitment, filing and 容缺 again at once."""
    with session_scope(ctx.engine) as s:
        return credit.restriction_view(credit.lift_restriction(s, dept, restriction_id))


# --- filing (by the enterprise) -------------------------------------------------------------


@router.post(
    "/enterprise/filings",
    status_code=201,
    response_model=LicenceOut,
    response_model_exclude_unset=True,
    responses=error_responses(401, 403, 409, 413, 422),
)
async def file(body: FilingIn, ctx: CtxDep, ent: EntFilingsDep) -> dict[str, Any]:
    """File (备案) for a licence type in ``filing`` mode: the filing form is signed with your business-licence
    signature and the 备案凭证 is sealed at once by the department's seal: a licence of kind ``filing``."""
    issued = await filing.file(ctx, ent, body.department, body.licence_type, body.fields)
    body_out = issued_body(ctx, issued)
    base = f"{ctx.settings.public_base_url}/api/v1/enterprise/filings/{issued.licence.id}"
    body_out.update(pdf_url=f"{base}/pdf", filing_form_url=f"{base}/form")
    return body_out


FORM = media("application/pdf", "The filing form (备案表) signed with the enterprise's business-licence signature")


@router.get(
    "/enterprise/filings/{licence_id}/pdf",
    response_class=Response,
    responses={**FORM, **error_responses(401, 403, 404)},
)
def my_filing_pdf(licence_id: str, ctx: CtxDep, ent: EntReadDep) -> Response:
    """The 备案凭证 of one of your filings, sealed by the department."""
    with Session(ctx.engine) as s:
        _f, ver = filing.enterprise_filing(s, ent, licence_id)
    return stored_pdf(ctx, ver.stored_sha256, f"备案凭证-{licence_id}.pdf", "filing")


@router.get(
    "/enterprise/filings/{licence_id}/form",
    response_class=Response,
    responses={**FORM, **error_responses(401, 403, 404)},
)
def my_filing_form(licence_id: str, ctx: CtxDep, ent: EntReadDep) -> Response:
    """The filing form you signed."""
    with Session(ctx.engine) as s:
        f, _ver = filing.enterprise_filing(s, ent, licence_id)
    return stored_pdf(ctx, f.form_sha256, f"备案表-{licence_id}.pdf", "filing form")


@router.get(
    "/licences/{licence_id}/filing-form", response_class=Response, responses={**FORM, **error_responses(401, 404)}
)
def filing_form(licence_id: str, ctx: CtxDep, dept: DeptDep) -> Response:
    """The filing form the enterprise signed, behind one of your department's 备案凭证."""
    with session_scope(ctx.engine) as s:
        f = filing.department_filing(s, dept, licence_id, download=True)
    return stored_pdf(ctx, f.form_sha256, f"备案表-{licence_id}.pdf", "filing form")


# --- commitments ----------------------------------------------------------------------------


@router.get("/commitments/texts/{department}/{code}", response_model=CommitmentTextOut, responses=error_responses(422))
def commitment_text(department: str, code: str, ctx: CtxDep) -> dict[str, Any]:
    """The commitment text (告知承诺书) of a licence type in commitment mode: public, to read before signing."""
    with Session(ctx.engine) as s:
        return commitments.commitment_text(s, department, code)


@router.post(
    "/enterprise/commitments",
    status_code=201,
    response_model=CommitmentOut,
    responses=error_responses(401, 403, 409, 413, 422),
)
async def sign_commitment(body: CommitmentIn, ctx: CtxDep, ent: EntCommitmentsDep) -> dict[str, Any]:
    """Sign the commitment of a licence type in commitment mode with your business-licence signature; the
    department issues the licence with its ``id`` (``commitment_id``). 409 ``credit_restricted`` on the credit list."""
    c = await commitments.sign_commitment(ctx, ent, body.department, body.licence_type)
    return commitments.commitment_view(c, ctx.settings.public_base_url)


@router.get("/enterprise/commitments", response_model=CommitmentList, responses=error_responses(401, 403, 422))
def my_commitments(ctx: CtxDep, ent: EntReadDep, page: PageDep) -> dict[str, Any]:
    """Your enterprise's commitments, newest first, each with its status and due date."""
    with Session(ctx.engine) as s:
        return commitments.commitments_page(s, ent, page, ctx.settings.public_base_url)


@router.get(
    "/enterprise/commitments/{commitment_id}/pdf",
    response_class=Response,
    responses={**PDF, **error_responses(401, 403, 404)},
)
def my_commitment_pdf(commitment_id: str, ctx: CtxDep, ent: EntReadDep) -> Response:
    """The signed commitment PDF."""
    with Session(ctx.engine) as s:
        c = commitments.own_commitment(s, ent, commitment_id)
    return stored_pdf(ctx, c.pdf_sha256, f"告知承诺书-{c.id}.pdf", "commitment")


@router.get("/commitments/{commitment_id}", response_model=CommitmentOut, responses=error_responses(401, 404))
def get_commitment(commitment_id: str, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """A commitment signed for one of your department's types, to check before issuing with it."""
    with Session(ctx.engine) as s:
        return commitments.commitment_view(
            commitments.department_commitment(s, dept, commitment_id), ctx.settings.public_base_url, for_department=True
        )


@router.get("/commitments/{commitment_id}/pdf", response_class=Response, responses={**PDF, **error_responses(401, 404)})
def commitment_pdf(commitment_id: str, ctx: CtxDep, dept: DeptDep) -> Response:
    """The signed PDF of a commitment for one of your department's types."""
    with session_scope(ctx.engine) as s:
        c = commitments.department_commitment_download(s, dept, commitment_id)
    return stored_pdf(ctx, c.pdf_sha256, f"告知承诺书-{c.id}.pdf", "commitment")


@router.post(
    "/licences/{licence_id}/commitment",
    response_model=CommitmentOut,
    responses=error_responses(401, 404, 409, 413, 422),
)
def commitment_result(licence_id: str, body: CommitmentResultIn, ctx: CtxDep, dept: DeptDep) -> Any:
    """Record the check (核查) of the commitment a licence was issued with, once: ``fulfilled``, or
    ``unfulfilled``, which withdraws the licence (撤销, 承诺不实)."""
    return commitments.record_result(ctx, dept, licence_id, body.result, body.note)


@public_router.get(
    "/commitments/{commitment_id}.pdf", response_class=Response, responses={**PDF, **error_responses(404)}
)
def public_commitment_pdf(commitment_id: str, ctx: CtxDep) -> Response:
    """A commitment a licence was issued with: public (企业承诺内容应向社会公开), verifies ``signed_by_enterprise``."""
    with Session(ctx.engine) as s:
        c = commitments.public_commitment_pdf(s, commitment_id)
    return stored_pdf(ctx, c.pdf_sha256, f"告知承诺书-{c.id}.pdf", "commitment")
