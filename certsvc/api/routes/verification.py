"""Public verification: upload a PDF, or send the text of a QR code; trust and status lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
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


@router.get("/trust-list", response_model=TrustList, response_model_exclude_unset=True)
def get_trust_list(ctx: CtxDep) -> dict[str, Any]:
    """The root and every issuer's and enterprise's certificate, for verifying PDFs and QR codes offline."""
    return lists.trust_list(ctx)


@router.get("/status-list", response_model=StatusList)
def get_status_list(ctx: CtxDep) -> dict[str, Any]:
    """Every licence version's status (Bitstring Status List, 2 bits each), signed by the service seal (JWS)."""
    return lists.status_list(ctx)
