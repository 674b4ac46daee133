"""The enterprise's staff tokens, managed by the legal representative's token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from certsvc.api.deps import CtxDep, EntOwnerDep
from certsvc.api.models import error_responses
from certsvc.api.models.credentials import NewTokenOut, TokenList, TokenOut
from certsvc.api.paging import PageDep
from certsvc.db.session import session_scope
from certsvc.enterprises import tokens
from certsvc.schemas import TokenIn

router = APIRouter(prefix="/api/v1", tags=["enterprises"])
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The token's id, as the token list shows it")]


@router.post(
    "/enterprise/tokens",
    status_code=201,
    response_model=NewTokenOut,
    summary="Make a staff token",
    responses=error_responses(401, 403, 413, 422),
)
def create_token(body: TokenIn, ctx: CtxDep, caller: EntOwnerDep) -> dict[str, Any]:
    """A token for staff (管理员, 办事人) with the scopes named (``licences:read``, ``grants:write``, ``sign``,
    ``commitments:write``, ``filings:write``) that expires after ``expires_in_days`` (1-365, 90 by default).
    Only the legal representative's token (the one from activation) makes tokens; the token is shown once."""
    with session_scope(ctx.engine) as s:
        view, token = tokens.create_token(
            s, caller, name=body.name, scopes=body.scopes, expires_in_days=body.expires_in_days
        )
    return {**view, "token": token}


@router.get(
    "/enterprise/tokens",
    response_model=TokenList,
    summary="List the enterprise's tokens",
    responses=error_responses(401, 403, 422),
)
def list_tokens(ctx: CtxDep, caller: EntOwnerDep, page: PageDep) -> dict[str, Any]:
    """Every token of your enterprise, newest first, without secrets: the legal representative's and the
    staff's, with their scopes, state, expiry and last use (to the minute)."""
    with session_scope(ctx.engine) as s:
        return tokens.list_tokens(s, caller, page)


@router.delete(
    "/enterprise/tokens/{token_id}",
    response_model=TokenOut,
    summary="Revoke a staff token",
    responses=error_responses(401, 403, 404, 409, 422),
)
def revoke_token(token_id: TokenId, ctx: CtxDep, caller: EntOwnerDep) -> dict[str, Any]:
    """Revoke a staff token at once: requests with it get 401 saying so. The legal representative's own
    token ends only when the operator re-issues the enterprise (``certsvc enterprise reissue``)."""
    with session_scope(ctx.engine) as s:
        return tokens.revoke_token(s, caller, token_id)
