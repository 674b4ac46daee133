"""Issuing many licences in one call (``POST /licences:batch``): back-filling and bulk approvals.

Each raw item is validated on its own (a bad item is that item's error), then all valid items go
through :func:`certsvc.licences.issuance.issue_many`, the path a single issuance takes too.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from certsvc.context import Context
from certsvc.db.models import Department
from certsvc.errors import Invalid
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
            where = error_location(err, whole="item")
            results[i] = Invalid(f"items[{i}].{where}: {err.get('msg')}", field=where)
    return out


async def issue_batch(ctx: Context, dept: Department, items: list[dict[str, Any]]) -> list[Result]:
    """Issue each item on its own; the results are in the order of the items."""
    results: list[Result | None] = [None] * len(items)
    await issue_many(ctx, dept, _parse(items, results), results)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
