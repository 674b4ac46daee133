"""Issuing many licences in one call (``POST /licences:batch``): back-filling and bulk approvals.

Every item goes through the steps of a single issuance (reserve → seal → store → record), with the
bookkeeping shared:

- one short transaction reserves all serials and status indexes (one counter UPDATE per licence
  type and one for the status list);
- items are sealed in chunks, one chunk per worker job, so that hand-offs between processes are
  per chunk rather than per licence;
- each chunk is recorded in one transaction (licences, versions, audit events) as soon as its
  PDFs are stored, while later chunks are still being sealed.

A failure leaves what a single issuance leaves: unused serials (gaps, never duplicates) and blobs
without records, which repair removes; never a record without its PDF. One item's error never
stops the others. Business licences (营业执照) register their enterprise and its signing key, so
they take the single-issuance path, one at a time per worker.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from certsvc import audit, faults
from certsvc.context import Context
from certsvc.counters import next_value
from certsvc.db.models import Department, LicenceType
from certsvc.db.session import session_scope
from certsvc.errors import Internal, Invalid, ServiceError
from certsvc.identifiers import licence_number
from certsvc.metrics import ISSUANCES
from certsvc.schemas import LicenceIn
from certsvc.services.clock import today
from certsvc.services.licences import (
    Content,
    Draft,
    Issued,
    IssueRequest,
    issue,
    issue_entry,
    layout_invalid,
    licence_row,
    licence_type_for,
    seal_job,
    validate_fields,
    validate_holder,
    validity,
    version_row,
)
from certsvc.services.sealing_pool import SealJob
from signing.layout import LayoutError

log = logging.getLogger("certsvc")

CHUNK_MAX = 10
"""Most licences per worker job (and per recording transaction)."""

Result = Issued | ServiceError
_INTERNAL = "internal error while issuing this item; it has been logged, and nothing was recorded for it"


@dataclass
class _Item:
    """A valid item of the batch, with its reserved numbers once :func:`_reserve` has run."""

    index: int
    lt: LicenceType
    holder: tuple[str, str, str]  # USCC, name, kind
    values: dict[str, str]
    valid: tuple[date, date | None]
    content: Content | None = None


def chunk_size(items: int, workers: int) -> int:
    """Enough chunks to keep every worker busy (about two each), at most :data:`CHUNK_MAX` items."""
    return max(1, min(CHUNK_MAX, math.ceil(items / (2 * max(1, workers)))))


def _parse(items: list[dict[str, Any]], results: list[Result | None]) -> list[tuple[int, IssueRequest]]:
    out = []
    for i, raw in enumerate(items):
        try:
            out.append((i, LicenceIn.model_validate(raw).to_request()))
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "item"
            results[i] = Invalid(f"items[{i}].{where}: {err.get('msg')}", field=where)
    return out


def _check(
    s: Session, dept: Department, requests: list[tuple[int, IssueRequest]], results: list[Result | None]
) -> tuple[list[_Item], list[tuple[int, IssueRequest]]]:
    """Validate every request: (items for the shared path, business licences for the single path)."""
    types: dict[str, LicenceType | ServiceError] = {}
    items, singles = [], []
    for i, req in requests:
        try:
            holder = validate_holder(req)
            code = req.licence_type
            if code not in types:
                try:
                    types[code] = licence_type_for(s, dept, code)
                except ServiceError as e:
                    types[code] = e
            lt = types[code]
            if isinstance(lt, ServiceError):
                raise lt
            if lt.is_business_licence:
                singles.append((i, req))
                continue
            values = validate_fields(lt, req.fields or {})
            items.append(_Item(i, lt, holder, values, validity(lt, req.valid_from, req.valid_until)))
        except ServiceError as e:
            results[i] = e
    return items, singles


def _reserve(ctx: Context, dept: Department, items: list[_Item]) -> None:
    """Reserve serials (per type, in type order so that concurrent batches lock alike) and status
    indexes for all items in one transaction."""
    with session_scope(ctx.engine) as s:
        by_type: dict[int, list[_Item]] = {}
        for item in items:
            by_type.setdefault(item.lt.id or 0, []).append(item)
        serials: dict[int, int] = {}
        for type_id in sorted(by_type):
            first = next_value(s, f"serial:{type_id}", len(by_type[type_id]))
            for k, item in enumerate(by_type[type_id]):
                serials[item.index] = first + k
        first_index = next_value(s, "status_index", len(items))
    year = today().year
    for k, item in enumerate(items):
        serial = serials[item.index]
        uscc, name, _kind = item.holder
        number = licence_number(item.lt.code, dept.code, year, serial)
        item.content = Content(serial, first_index + k, 1, number, uscc, name, item.values, *item.valid)


def _record(ctx: Context, dept: Department, done: list[tuple[_Item, Draft]]) -> list[Issued]:
    """One transaction for a chunk: licences, their first versions, and the audit events."""
    with session_scope(ctx.engine) as s:
        licences = [licence_row(dept, item.lt, item.holder[2], draft.content) for item, draft in done]
        s.add_all(licences)
        s.flush()
        versions = [version_row(lic.id, draft) for lic, (_, draft) in zip(licences, done, strict=True)]
        s.add_all(versions)
        audit.record_many(
            s, [issue_entry(dept, item.lt, lic, draft) for lic, (item, draft) in zip(licences, done, strict=True)]
        )
    ISSUANCES.labels("licence").inc(len(done))
    return [
        Issued(lic, ver, item.lt, dept, draft.verify_url)
        for lic, ver, (item, draft) in zip(licences, versions, done, strict=True)
    ]


async def _seal_and_record(
    ctx: Context, dept: Department, chunk: list[tuple[_Item, SealJob]], results: list[Result | None]
) -> None:
    try:
        sealed = await ctx.sealer.seal_chunk([job for _, job in chunk])
        faults.point("after_blob")  # PDFs stored, nothing recorded: repair removes the blobs
        done = []
        for (item, job), result in zip(chunk, sealed, strict=True):
            if isinstance(result, LayoutError):
                results[item.index] = layout_invalid(result)
            else:
                assert item.content is not None
                done.append((item, Draft(item.content, job, result)))
        if done:
            for (item, _), issued in zip(done, _record(ctx, dept, done), strict=True):
                results[item.index] = issued
    except Exception:
        log.exception("batch issuance: a chunk of %d items failed", len(chunk))
        for item, _ in chunk:
            if results[item.index] is None:
                results[item.index] = Internal(_INTERNAL)


async def issue_batch(ctx: Context, dept: Department, items: list[dict[str, Any]]) -> list[Result]:
    """Issue each item on its own; the results are in the order of the items."""
    results: list[Result | None] = [None] * len(items)
    requests = _parse(items, results)
    with Session(ctx.engine) as s:
        shared, singles = _check(s, dept, requests, results)
        cert = ctx.keyring.current(s, "department", dept.id) if shared else None
    tasks = []
    if shared and cert is not None:
        _reserve(ctx, dept, shared)
        faults.point("after_reserve")  # serials used up, nothing else: gaps, never duplicates
        jobs = []
        for item in shared:
            assert item.content is not None
            jobs.append((item, seal_job(ctx, dept, item.lt, cert.kid, item.content)))
        size = chunk_size(len(jobs), ctx.sealer.workers)
        tasks += [_seal_and_record(ctx, dept, jobs[k : k + size], results) for k in range(0, len(jobs), size)]

    limit = asyncio.Semaphore(max(1, ctx.sealer.workers))

    async def single(i: int, req: IssueRequest) -> None:
        async with limit:
            try:
                results[i] = await issue(ctx, dept, req)
            except ServiceError as e:
                results[i] = e
            except Exception:
                log.exception("batch issuance: item %d failed", i)
                results[i] = Internal(_INTERNAL)

    tasks += [single(i, req) for i, req in singles]
    await asyncio.gather(*tasks)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
