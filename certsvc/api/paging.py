"""The query parameters of every list: ``limit`` and ``cursor``, and nothing a list does not know."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from certsvc.db.paging import DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT, Page, PageRequest
from certsvc.errors import Invalid

LIMIT_DOC = f"How many items to answer, 1-{MAX_LIMIT} ({DEFAULT_LIMIT} by default)."
CURSOR_DOC = "Where to go on: the ``next_cursor`` of the previous page, as it was given; absent for the first page."
_NUMBERED = {"page", "per_page", "page_size", "offset", "skip", "start"}


def _query_names(d: Dependant) -> set[str]:
    names = {p.alias for p in d.query_params}
    for sub in d.dependencies:
        names |= _query_names(sub)
    return names


async def paging(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=LIMIT_DOC)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR, description=CURSOR_DOC)] = None,
) -> PageRequest:
    """A list's page request (``async`` although it awaits nothing: no thread hop). A query parameter the
    list does not take is refused (422 naming it), so that a misspelt filter or a page number is never
    silently ignored."""
    route = request.scope.get("route")
    known = _query_names(route.dependant) if isinstance(route, APIRoute) else {"limit", "cursor"}
    for name in request.query_params:
        if name in known:
            continue
        if name in _NUMBERED:
            raise Invalid(f"{name}: lists are not paged by number; pass limit and the next_cursor given", field=name)
        takes = ", ".join(sorted(known))
        raise Invalid(f"{name}: not a parameter of this list (it takes {takes})", field=name)
    return PageRequest(limit=limit, cursor=cursor or None)


PageDep = Annotated[PageRequest, Depends(paging)]


def listing(page: Page[Any], **extra: Any) -> dict[str, Any]:
    """A page already shaped into dicts, as the answer of a list."""
    return {**extra, "items": page.items, "next_cursor": page.next_cursor}
