"""Issuing many licences in one call (``POST /licences:batch``): back-filling and bulk approvals.

Each raw item is validated on its own (a bad item is that item's error), then all valid items go
through :func:`certsvc.licences.issuance.issue_many`, the path a single issuance takes too.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from certsvc.context import Context
from certsvc.db.models import Department
from certsvc.errors import Invalid, ServiceError
from certsvc.inputs import error_location
from certsvc.licences.issuance import Result, issue_many
from certsvc.licences.rules import IssueRequest


def _parse(items: list[dict[str, Any]], results: list[Result | None]) -> list[tuple[int, IssueRequest]]:
    out = []
    for i, raw in enumerate(items):
        try:
            out.append((i, IssueRequest.model_validate(raw)))
        except ValidationError as e:
            err = e.errors()[0]
            where = error_location(err, whole="")
            results[i] = Invalid(f"{where}: {err.get('msg')}" if where else str(err.get("msg")), field=where or None)
    return out


def in_item(i: int, exc: ServiceError) -> ServiceError:
    """``exc`` of item ``i`` named as request validation names a field (:mod:`certsvc.api.errors`):
    ``field`` is ``items.<i>.<field>`` (``items.<i>`` for the item as a whole) and the message starts
    with it, whether the item failed its checks or its issuance."""
    where = f"items.{i}"
    message = exc.message
    if exc.field:
        if message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2 :]
        where = f"{where}.{exc.field}"
    exc.field = where
    exc.message = f"{where}: {message}"
    return exc


async def issue_batch(ctx: Context, dept: Department, items: list[dict[str, Any]]) -> list[Result]:
    """Issue each item on its own; the results are in the order of the items."""
    results: list[Result | None] = [None] * len(items)
    await issue_many(ctx, dept, _parse(items, results), results)
    assert all(r is not None for r in results)
    return [in_item(i, r) if isinstance(r, ServiceError) else r for i, r in enumerate(results) if r is not None]
