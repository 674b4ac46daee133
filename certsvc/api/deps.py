"""Request dependencies: the context, and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from certsvc.api.client import client_address
from certsvc.auth import EnterpriseCaller, department_for, enterprise_caller_for, principal_for, require_scope
from certsvc.capacity import Caller
from certsvc.context import Context
from certsvc.core.clock import moment_in_range
from certsvc.db.models import Department, Enterprise
from certsvc.db.session import session_scope
from certsvc.enterprises import scopes
from certsvc.errors import Denial, Unauthorized
from certsvc.inputs import parameter_problem


async def get_ctx(request: Request) -> Context:
    """``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in its thread
    pool, a thread hop per request on the hottest routes."""
    return request.app.state.ctx


async def safe_parameters(request: Request) -> None:
    """Every route's path and query parameters hold text: no lone surrogate, no control character
    (422 naming the parameter), so that none reaches a query, a log or an answer."""
    for params, where in ((request.path_params.items(), "path"), (request.query_params.multi_items(), "query")):
        problem = parameter_problem(params, where)
        if problem:
            raise RequestValidationError([problem])


def bearer(request: Request) -> str:
    """The API key or portal token of a request; every authenticated route starts here."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <key>", denial=Denial("bad_key", reason="no bearer key sent"))
    return token.strip()


def current_department(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Department:
    """The department whose API key signs this request, detached so routes can use it after the session."""
    token = bearer(request)
    with session_scope(ctx.engine) as s:
        dept = department_for(s, token)
        s.expunge(dept)
    return dept


def _enterprise_caller(request: Request, ctx: Context, scope: str | None) -> EnterpriseCaller:
    """The enterprise whose token comes with this request, if the token has ``scope`` (None: only the
    legal representative's token); 401 for a bad token, 403 naming the scope it lacks. Detached like
    ``current_department``."""
    token = bearer(request)
    with session_scope(ctx.engine) as s:
        caller = enterprise_caller_for(s, token)
        s.expunge(caller.enterprise)
    require_scope(caller, scope)
    return caller


def enterprise_licences_read(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Enterprise:
    """An enterprise token with the scope ``licences:read``: read licences, receipts, grants, the access log."""
    return _enterprise_caller(request, ctx, scopes.LICENCES_READ).enterprise


def enterprise_grants_write(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Enterprise:
    """An enterprise token with the scope ``grants:write``: create and revoke grants, show licences live (亮照)."""
    return _enterprise_caller(request, ctx, scopes.GRANTS_WRITE).enterprise


def enterprise_sign(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Enterprise:
    """An enterprise token with the scope ``sign``: sign with the business-licence signature."""
    return _enterprise_caller(request, ctx, scopes.SIGN).enterprise


def enterprise_commitments_write(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Enterprise:
    """An enterprise token with the scope ``commitments:write``: sign commitments (告知承诺)."""
    return _enterprise_caller(request, ctx, scopes.COMMITMENTS_WRITE).enterprise


def enterprise_filings_write(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Enterprise:
    """An enterprise token with the scope ``filings:write``: file (备案)."""
    return _enterprise_caller(request, ctx, scopes.FILINGS_WRITE).enterprise


def enterprise_legal_representative(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> EnterpriseCaller:
    """The legal representative's token (the one from activation): the only one that manages tokens."""
    return _enterprise_caller(request, ctx, None)


async def get_client(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> str:
    """The client address (see :mod:`certsvc.api.client`): what per-client limits and logs key by."""
    return client_address(request, ctx.settings.trusted_proxies)


def get_caller(request: Request, ctx: Annotated[Context, Depends(get_ctx)]) -> Caller:
    """Who sends an upload: the client address, and whether the request carries a valid department
    or enterprise key (authenticated uploads have workers of their own; a bad key is 401)."""
    address = client_address(request, ctx.settings.trusted_proxies)
    if "authorization" not in request.headers:
        return Caller(address)
    token = bearer(request)
    with session_scope(ctx.engine) as s:
        principal_for(s, token)
    return Caller(address, authenticated=True)


# What each authenticating dependency asks for, as OpenAPI security requirements (alternatives: any one
# will do; ``{}`` is "no credentials"). :mod:`certsvc.api.openapi` finds these in every route's
# dependency tree, so a route that depends on one of them (or on a dependency that does) is
# documented with its bearer scheme, 401 and (enterprises) 403 without further edits. A new
# dependency that reads the bearer token itself must be added here.
DEPARTMENT_KEY = "departmentKey"
ENTERPRISE_TOKEN = "enterpriseToken"  # noqa: S105 (a scheme name, not a secret)
SECURITY: dict[Callable[..., Any], list[dict[str, list[str]]]] = {
    current_department: [{DEPARTMENT_KEY: []}],
    **{
        scoped: [{ENTERPRISE_TOKEN: []}]
        for scoped in (
            enterprise_licences_read,
            enterprise_grants_write,
            enterprise_sign,
            enterprise_commitments_write,
            enterprise_filings_write,
            enterprise_legal_representative,
        )
    },
    get_caller: [{}, {DEPARTMENT_KEY: []}, {ENTERPRISE_TOKEN: []}],
}

CtxDep = Annotated[Context, Depends(get_ctx)]
DeptDep = Annotated[Department, Depends(current_department)]
# One dependency per scope an enterprise route needs (the scopes: certsvc.enterprises.scopes).
EntReadDep = Annotated[Enterprise, Depends(enterprise_licences_read)]
EntGrantsDep = Annotated[Enterprise, Depends(enterprise_grants_write)]
EntShowDep = EntGrantsDep  # live showing (亮照) needs scopes.SHOW, which is grants:write
EntSignDep = Annotated[Enterprise, Depends(enterprise_sign)]
EntCommitmentsDep = Annotated[Enterprise, Depends(enterprise_commitments_write)]
EntFilingsDep = Annotated[Enterprise, Depends(enterprise_filings_write)]
EntOwnerDep = Annotated[EnterpriseCaller, Depends(enterprise_legal_representative)]
ClientDep = Annotated[str, Depends(get_client)]
CallerDep = Annotated[Caller, Depends(get_caller)]


def _moment(at: datetime) -> datetime:
    try:
        return moment_in_range(at)
    except ValueError as e:
        raise PydanticCustomError("moment_range", "{problem}", {"problem": str(e)}) from None


AtQuery = Annotated[
    datetime | None,
    AfterValidator(_moment),
    Query(
        description="An ISO-8601 moment in the years 2000–2199: the licence's status as of then, from its history "
        "(no offset: China time)"
    ),
]
