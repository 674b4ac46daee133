"""Back-fill jobs: many licences issued in the background (``/licence-jobs``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from certsvc.api.deps import CtxDep, DeptDep
from certsvc.api.models import error_responses, media
from certsvc.api.models.jobs import LicenceJobCreated, LicenceJobIn, LicenceJobOut, LicenceJobResults
from certsvc.api.paging import PageDep
from certsvc.api.responses import content_disposition
from certsvc.backfill import jobs
from certsvc.backfill.intake import MIB

router = APIRouter(prefix="/api/v1", tags=["departments"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": LicenceJobIn.model_json_schema()}},
    }
}


@router.post(
    "/licence-jobs",
    status_code=202,
    response_model=LicenceJobCreated,
    responses=error_responses(401, 413, 422),
    openapi_extra=_BODY,
)
async def post_licence_job(request: Request, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Submit a back-fill job of up to 100,000 licences (at most ``CERTSVC_JOB_MAX_MIB`` MiB, 64 by
    default): 202 at once, the licences are issued in the background. Items succeed or fail on their
    own; a paper ``number`` already used (by a licence or an earlier item of the job), or an
    ``issued_on`` in the future or after ``valid_until``, is that item's error."""
    job = await jobs.receive(ctx.engine, dept, request.stream(), ctx.settings.job_max_mib * MIB)
    view = jobs.job_view(job, {"pending": job.total}, ctx.settings.public_base_url)
    return {"id": job.id, "url": view["url"], "state": job.state, "total": job.total}


@router.get("/licence-jobs/{job_id}", response_model=LicenceJobOut, responses=error_responses(401, 404))
def get_licence_job(job_id: str, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """A job's state (``queued``, ``running``, ``done``, ``failed``) and progress; 404 for another department's."""
    return jobs.status(ctx.engine, dept, job_id, ctx.settings.public_base_url)


@router.get(
    "/licence-jobs/{job_id}/results",
    response_model=LicenceJobResults,
    response_model_exclude_unset=True,
    responses=error_responses(401, 404, 422),
)
def get_licence_job_results(
    job_id: str,
    ctx: CtxDep,
    dept: DeptDep,
    page: PageDep,
) -> dict[str, Any]:
    """A job's results, one per item in the order of the items (pending ones too), a page at a time."""
    return jobs.results(ctx.engine, dept, job_id, ctx.settings.public_base_url, page)


_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@router.get(
    "/licence-jobs/{job_id}/results.{fmt}",
    response_class=StreamingResponse,
    responses={
        **media("text/csv", "Every result as CSV (UTF-8 with BOM), or with .jsonl as JSON lines"),
        **error_responses(401, 404, 422),
    },
)
def download_licence_job_results(
    job_id: str, fmt: Literal["csv", "jsonl"], ctx: CtxDep, dept: DeptDep
) -> StreamingResponse:
    """Download every result of a job as a file: ``results.csv`` or ``results.jsonl`` (audited)."""
    body = jobs.export(ctx.engine, dept, job_id, ctx.settings.public_base_url, fmt)
    disposition = content_disposition(f"licence-job-{job_id}-results.{fmt}")
    return StreamingResponse(body, media_type=_TYPES[fmt], headers={"Content-Disposition": disposition})
