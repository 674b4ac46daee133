"""The catalogue of matters (事项清单): departments publish, anyone reads, departments look up 免提交."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from certsvc.api.deps import CtxDep, DeptDep
from certsvc.api.models import Catalogue, MatterMaterials, MatterOut, error_responses, media
from certsvc.api.paging import PageDep
from certsvc.api.routes.public import wants_json
from certsvc.db.session import session_scope
from certsvc.matters.catalogue import catalogue, create_matter, held_materials, matter_view
from certsvc.schemas import MatterIn
from certsvc.web import render

router = APIRouter(tags=["matters"])

QText = Annotated[str | None, Query(max_length=100)]


@router.post(
    "/api/v1/matters", status_code=201, response_model=MatterOut, responses=error_responses(401, 409, 413, 422)
)
def post_matter(body: MatterIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Publish a matter of your department in the catalogue (事项清单): its legal basis, reform mode, the licence
    type it issues (one of yours, in the same mode), the materials it asks for (a licence as a material:
    ``DEPTCODE:TYPECODE``, so that holders need not submit it, 免提交) and its supervision. 409 if the code exists."""
    with session_scope(ctx.engine) as s:
        matter, lt = create_matter(s, dept, body)
        return matter_view(matter, dept, lt)


@router.get(
    "/api/v1/matters/{code}/materials",
    response_model=MatterMaterials,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404, 422),
)
def get_matter_materials(
    code: str,
    ctx: CtxDep,
    dept: DeptDep,
    uscc: str = Query(..., max_length=32),
    purpose: str | None = Query(None, max_length=500),
) -> dict[str, Any]:
    """免提交: which materials of a matter the enterprise ``uscc`` already holds as a valid licence (``held``, with
    the licence and its verify URL) and which it must hand in (``submit``). ``purpose`` is required; the look-up is
    written to the holder's access log with the matter code."""
    with session_scope(ctx.engine) as s:
        return held_materials(s, dept, code, uscc=uscc, purpose=purpose, base_url=ctx.settings.public_base_url)


@router.get("/api/v1/matters", response_model=Catalogue, responses=error_responses(422))
def get_matters(ctx: CtxDep, page: PageDep, q: QText = None, department: QText = None) -> dict[str, Any]:
    """The catalogue of matters as JSON (as ``GET /catalogue`` with ``Accept: application/json``), by code."""
    with Session(ctx.engine) as s:
        return catalogue(s, page, q=q, department=department)


@router.get(
    "/catalogue",
    response_model=Catalogue,
    responses={**media("text/html", "The catalogue of matters (事项清单)"), **error_responses(422)},
)
def catalogue_page(
    request: Request,
    ctx: CtxDep,
    page: PageDep,
    q: QText = None,
    department: QText = None,
) -> Response:
    """事项清单: every licensing matter — its department, legal basis, reform mode, materials and supervision.
    Search by name (``q``) and department (code or name). HTML for browsers, JSON for ``Accept: application/json``."""
    with Session(ctx.engine) as s:
        view = catalogue(s, page, q=q, department=department)
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("catalogue.html", request=request, c=view, q=q or "", department=department or ""))
