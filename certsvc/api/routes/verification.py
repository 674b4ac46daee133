"""Public verification: upload a PDF, or send the text of a QR code; trust and status lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Request, Response, UploadFile
from pydantic import Field

from certsvc.api.deps import AtQuery, CallerDep, CtxDep
from certsvc.api.models import QrVerifyResult, StatusList, TrustList, VerifyResult, error_responses
from certsvc.api.uploads import read_pdf_upload
from certsvc.inputs import RequestModel
from certsvc.verification import lists
from certsvc.verification.pdf import verify_upload
from certsvc.verification.qr import verify_qr

router = APIRouter(prefix="/api/v1", tags=["verification"])


class QrIn(RequestModel):
    """The text of a QR code, as scanned."""

    text: str = Field(min_length=1, max_length=4000)


@router.post(
    "/verify",
    response_model=VerifyResult,
    response_model_exclude_unset=True,
    responses=error_responses(401, 413, 422, 429, 503),
)
async def post_verify(
    request: Request,
    ctx: CtxDep,
    caller: CallerDep,
    file: UploadFile | None = File(default=None),
    at: AtQuery = None,
) -> dict[str, Any]:
    """Verify a PDF (multipart field ``file``): the verdict, the checks behind it, and the licence (with its status
    now, or as of ``at``) or receipt of this service that it is. Anonymous uploads are limited per client address
    (429); 503 when the verifiers are all busy. Both carry ``Retry-After``. A department or enterprise key
    (optional) uses workers kept for authenticated callers."""
    data = await read_pdf_upload(request, file, ctx.settings.max_upload_bytes)
    return await verify_upload(ctx, data, caller, at)


@router.post(
    "/verify/qr",
    response_model=QrVerifyResult,
    response_model_exclude_unset=True,
    responses=error_responses(413, 422),
)
def post_verify_qr(body: QrIn, ctx: CtxDep) -> dict[str, Any]:
    """Verify the text of a scanned QR code: its signature, then whether this service recorded it
    (a valid signature over something never recorded is ``not_issued_here``)."""
    return verify_qr(ctx, body.text)


STATUS_LIST_JWT = "application/statuslist+jwt"
JWT = "application/jwt"
VARY = {"Vary": "Accept"}  # one URL, two representations: caches must keep them apart


def accepts(request: Request, media_type: str) -> bool:
    """Whether the caller's ``Accept`` asks for ``media_type`` at least as much as for JSON (q-values
    honoured, ``q=0`` refuses); JSON stays the default answer."""
    weights: dict[str, float] = {}
    for part in request.headers.get("accept", "").lower().split(","):
        name, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name] = max(weights.get(name, 0.0), q)
    wanted = weights.get(media_type, 0.0)
    return wanted > 0 and wanted >= weights.get("application/json", 0.0)


def _also(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}}


@router.get(
    "/trust-list",
    response_model=TrustList,
    response_model_exclude_unset=True,
    responses=_also(JWT, "JSON, or with `Accept: application/jwt` a compact JWS of it by the root's key"),
)
def get_trust_list(request: Request, response: Response, ctx: CtxDep) -> Any:
    """The root and every issuer's and enterprise's certificate, for verifying PDFs and QR codes offline. With
    ``Accept: application/jwt``: the same JSON as the payload of a compact JWS (ES256) by the root's key, whose
    header carries the root certificate (``x5c``) and its ``kid``."""
    if accepts(request, JWT):
        return Response(lists.trust_list_jws(ctx), media_type=JWT, headers=VARY)
    response.headers.update(VARY)
    return lists.trust_list(ctx)


@router.get(
    "/status-list",
    response_model=StatusList,
    responses=_also(STATUS_LIST_JWT, "JSON, or with `Accept: application/statuslist+jwt` the Token Status List JWT"),
)
def get_status_list(request: Request, response: Response, ctx: CtxDep) -> Any:
    """Every licence version's status as an IETF Token Status List (2 bits each: 0 valid, 1 revoked,
    2 suspended, 3 superseded), a JWT signed by the service seal. ``Accept: application/statuslist+jwt``
    gives the compact JWT itself; JSON gives it with its claims and the meaning of each code."""
    if accepts(request, STATUS_LIST_JWT):
        return Response(lists.status_list_token(ctx), media_type=STATUS_LIST_JWT, headers=VARY)
    response.headers.update(VARY)
    return lists.status_list(ctx)
