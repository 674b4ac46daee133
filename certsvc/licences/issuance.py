"""Issuing licences: one path for a single licence and for a batch (a single issuance is a batch of
one), in four steps so that a failure leaves nothing half-issued:

1. **reserve** serials (per licence type, in type order so that concurrent batches lock alike) and
   status-list indexes (shuffled: :mod:`certsvc.licences.status_index`), in one short transaction;
2. **seal** each licence (render, sign the QR payload, certify with the department's seal) in the
   sealing workers, in chunks: one worker job per chunk (:mod:`certsvc.sealing.pool`);
3. **store** each PDF by its SHA-256 (fsync + rename) before anything is recorded about it;
4. **record** each chunk in one transaction: licences, their first versions, enterprise
   registration for a business licence, and the audit events.

A failure leaves unused serials (gaps, never duplicates) and blobs without records, which repair
removes; never a record without its PDF. One item's error never stops the others. A business
licence (营业执照) registers its enterprise, so it is a chunk of its own.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from certsvc import audit, faults
from certsvc.context import Context
from certsvc.core.clock import now, today
from certsvc.db.counters import next_value
from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion
from certsvc.db.session import session_scope
from certsvc.enterprises.registration import check_business_licence_free, claim_uscc, register_enterprise
from certsvc.errors import Internal, ServiceError
from certsvc.events.outbox import emit
from certsvc.identifiers import licence_identifier, licence_number
from certsvc.licences.history import record_change
from certsvc.licences.rules import (
    IssueRequest,
    check_issued_on,
    layout_invalid,
    licence_type_for,
    paper_terms,
    validate_fields,
    validate_holder,
    validity,
)
from certsvc.licences.status_index import allocate as allocate_status_indexes
from certsvc.metrics import ISSUANCES
from certsvc.reform import terms
from certsvc.sealing.pool import Stored
from certsvc.security import token_key
from signing.layout import LayoutError
from signing.models import LicenceDocument, QrSpec, SealJob
from signing.payload import KIND_LICENCE, Claims, content_digest
from signing.seal import seal_code
from verify.trust import OwnerKind

__all__ = ["CHUNK_MAX", "Content", "IssueRequest", "Issued", "chunk_size", "issue", "issue_many"]

log = logging.getLogger("certsvc")

CHUNK_MAX = 10
"""Most licences per worker job (and per recording transaction)."""

_INTERNAL = "internal error while issuing this item; it has been logged, and nothing was recorded for it"


@dataclass(frozen=True)
class Issued:
    """A licence as recorded, and what the answer to its department needs."""

    licence: Licence
    version: LicenceVersion
    licence_type: LicenceType
    department: Department
    verify_url: str
    activation_code: str | None = None


Result = Issued | ServiceError
OnRecord = Callable[[Session, Licence], None]
"""Called in the transaction that records a licence, to record what goes with it (a filing)."""
OnItem = Callable[[Session, int, Licence], None]
"""Called like :data:`OnRecord` with the request's index too (a back-fill job marks its item done)."""


@dataclass(frozen=True)
class Content:
    """What a licence version says, decided (serial and status index reserved) before sealing."""

    serial: int
    status_index: int
    version: int
    number: str
    holder_uscc: str
    holder_name: str
    fields: dict[str, str]
    valid_from: date
    valid_until: date | None
    issued_on: date | None = None  # a paper licence's original issue date; else the day it is sealed


@dataclass(frozen=True)
class StoredVersion:
    """A licence version whose PDF is sealed and stored, not yet recorded."""

    content: Content
    job: SealJob
    stored: Stored

    @property
    def identifier(self) -> str:
        doc = self.job.document
        assert isinstance(doc, LicenceDocument)  # seal_job() makes licence documents only
        return doc.identifier

    @property
    def verify_url(self) -> str:
        return self.stored.verify_url


@dataclass
class _Item:
    """A valid request, with its reserved numbers once :func:`_reserve` has run."""

    index: int
    lt: LicenceType
    holder: tuple[str, str, str]  # USCC, name, kind
    values: dict[str, str]
    valid: tuple[date, date | None]
    commitment_id: str | None = None
    number: str | None = None  # a paper licence's number, kept
    issued_on: date | None = None  # a paper licence's issue date, kept
    content: Content | None = None


def chunk_size(items: int, workers: int) -> int:
    """Enough chunks to keep every worker busy (about two each), at most :data:`CHUNK_MAX` items."""
    return max(1, min(CHUNK_MAX, math.ceil(items / (2 * max(1, workers)))))


def seal_job(ctx: Context, dept: Department, lt: LicenceType, kid: str, c: Content) -> SealJob:
    """The job rendering and sealing one licence version with certificate ``kid``."""
    identifier = licence_identifier(lt.type_code, dept.uscc, c.serial, c.version)
    digest = content_digest(
        {
            "identifier": identifier,
            "holder": [c.holder_uscc, c.holder_name],
            "fields": c.fields,
            "valid": [c.valid_from, c.valid_until],
        }
    )
    claims = Claims(
        kind=KIND_LICENCE,
        identifier=identifier,
        holder_uscc=c.holder_uscc,
        type_code=lt.code,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        version=c.version,
        doc_hash=digest,
        status_index=c.status_index,
        issuer=dept.uscc,
        issued_at=int(now().timestamp()),
    )
    doc = LicenceDocument(
        title=lt.name,
        number=c.number,
        identifier=identifier,
        holder_name=c.holder_name,
        holder_uscc=c.holder_uscc,
        holder_label="名称" if lt.is_business_licence else "持证主体",
        fields=[(f["name"], c.fields[f["name"]]) for f in lt.fields if f["name"] in c.fields],
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        issuer_name=dept.name,
        issue_date=c.issued_on or today(),
        version=c.version,
        qr_text="",  # the pipeline signs the QR payload and prints its URL
        seal_name=dept.name,
        seal_code=seal_code(dept.uscc, dept.id or 0),
        type_code=lt.type_code,
        issuer_code=dept.uscc,
    )
    return SealJob(
        document=doc,
        signer_kid=kid,
        reason=f"{dept.name} 签发电子证照 {c.number}",
        qr=QrSpec(claims, ctx.settings.public_base_url, "v"),
        reserve_mark=True,
    )


async def seal_version(ctx: Context, dept: Department, lt: LicenceType, c: Content) -> StoredVersion:
    """Seal and store one licence version with the department's current seal (no transaction)."""
    with Session(ctx.engine) as s:
        cert = ctx.keyring.current(s, OwnerKind.DEPARTMENT, dept.id)
    job = seal_job(ctx, dept, lt, cert.kid, c)
    try:
        stored = await ctx.sealer.seal_and_store(job)
    except LayoutError as e:
        raise layout_invalid(e) from e
    return StoredVersion(c, job, stored)


def version_row(licence_id: str, sv: StoredVersion) -> LicenceVersion:
    """The database row of a stored version."""
    c = sv.content
    return LicenceVersion(
        licence_id=licence_id,
        version=c.version,
        identifier=sv.identifier,
        qr_token=token_key(sv.stored.qr_token),
        qr_payload=sv.stored.qr_token,
        status_index=c.status_index,
        fields=c.fields,
        holder_name=c.holder_name,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        pdf_sha256=sv.stored.sha256,
        pdf_size=sv.stored.size,
        signer_kid=sv.job.signer_kid,
    )


def _licence_row(dept: Department, lt: LicenceType, holder_kind: str, c: Content) -> Licence:
    return Licence(
        kind="filing" if lt.reform_mode == "filing" else "licence",
        licence_type_id=lt.id or 0,
        department_id=dept.id or 0,
        holder_uscc=c.holder_uscc,
        holder_name=c.holder_name,
        holder_kind=holder_kind,
        serial=c.serial,
        number=c.number,
        issued_on=c.issued_on,
    )


def _issue_entry(dept: Department, lt: LicenceType, lic: Licence, sv: StoredVersion) -> audit.Entry:
    details = {
        "identifier": sv.identifier,
        "number": lic.number,
        "holder_uscc": lic.holder_uscc,
        "sha256": sv.stored.sha256,
        "type": lt.code,
    }
    return audit.Entry("licence.issue", "department", dept.id, "licence", lic.id, details)


def _commitment_entry(dept: Department, lic: Licence, commitment_id: str, due: date) -> audit.Entry:
    details = {"licence_id": lic.id, "holder_uscc": lic.holder_uscc, "due": due.isoformat()}
    return audit.Entry("commitment.bind", "department", dept.id, "commitment", commitment_id, details)


# --- the steps ------------------------------------------------------------------------------


def _check(
    s: Session, dept: Department, requests: list[tuple[int, IssueRequest]], results: list[Result | None]
) -> list[_Item]:
    """Validate every request; an invalid one gets its error in ``results``."""
    types: dict[str, LicenceType | ServiceError] = {}
    items = []
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
            values = validate_fields(lt, req.fields or {})
            number, issued = paper_terms(req)
            valid = validity(lt, req.valid_from or issued, req.valid_until)
            check_issued_on(issued, valid)
            if lt.is_business_licence:
                check_business_licence_free(s, holder[0])
            if req.commitment_id:
                terms.check_for_issue(s, lt, holder[0], req.commitment_id, dept.id)
            items.append(_Item(i, lt, holder, values, valid, req.commitment_id, number, issued))
        except ServiceError as e:
            results[i] = e
    return items


def _serials(s: Session, dept: Department, lt: LicenceType, wanted: list[_Item], year: int) -> list[int]:
    """Serials of the type's counter for ``wanted`` items: a serial whose generated number a licence
    already has (a back-filled paper number in the service's own format) is skipped, never reused."""
    out: list[int] = []
    while len(out) < len(wanted):
        need = len(wanted) - len(out)
        first = next_value(s, f"serial:{lt.id or 0}", need)
        drawn = {licence_number(lt.code, dept.code, year, n): n for n in range(first, first + need)}
        taken = set(s.exec(select(Licence.number).where(col(Licence.number).in_(list(drawn)))).all())
        out += [n for number, n in drawn.items() if number not in taken]
    return out


def _reserve(ctx: Context, dept: Department, items: list[_Item]) -> None:
    """Serials per type (in type order) and status indexes for all items, in one transaction."""
    year = today().year
    with session_scope(ctx.engine) as s:
        by_type: dict[int, list[_Item]] = {}
        for item in items:
            by_type.setdefault(item.lt.id or 0, []).append(item)
        serials: dict[int, int] = {}
        for type_id in sorted(by_type):
            group = by_type[type_id]
            generated = [item for item in group if not item.number]  # the others keep a paper number
            drawn = iter(_serials(s, dept, group[0].lt, generated, year) if generated else [])
            kept = len(group) - len(generated)
            first_kept = next_value(s, f"serial:{type_id}", kept) if kept else 0
            for item in group:
                if item.number:
                    serials[item.index], first_kept = first_kept, first_kept + 1
                else:
                    serials[item.index] = next(drawn)
        indexes = allocate_status_indexes(s, len(items))
    for k, item in enumerate(items):
        serial = serials[item.index]
        uscc, name, _kind = item.holder
        number = item.number or licence_number(item.lt.code, dept.code, year, serial)
        item.content = Content(serial, indexes[k], 1, number, uscc, name, item.values, *item.valid, item.issued_on)


def _record(
    ctx: Context,
    dept: Department,
    done: list[tuple[_Item, StoredVersion]],
    on_record: OnRecord | None = None,
    on_item: OnItem | None = None,
) -> list[Issued]:
    """One transaction for a chunk: licences, their first versions, registrations, commitments, audit events."""
    issued = []
    with session_scope(ctx.engine) as s:
        entries = []
        for item, sv in done:
            code = None
            if item.lt.is_business_licence:  # again, atomically: another request may have registered it
                claim_uscc(s, item.holder[0], item.holder[1], item.holder[2])
                check_business_licence_free(s, item.holder[0])
                faults.point("business_licence_checked")
            lic = _licence_row(dept, item.lt, item.holder[2], sv.content)
            s.add(lic)
            s.flush()
            record_change(s, lic.id, "issue", lic.state, 1, lic.created_at)
            ver = version_row(lic.id, sv)
            s.add(ver)
            if item.lt.is_business_licence:
                code = register_enterprise(ctx.keyring, s, dept, lic, item.holder[2])
            if item.commitment_id:
                due = terms.bind(s, item.commitment_id, lic.id, today())
                entries.append(_commitment_entry(dept, lic, item.commitment_id, due))
            change = {"change": "issue", "reason": None}
            emit(s, "licence.issued", licence=lic, version=ver, licence_type=item.lt, department=dept, data=change)
            if on_record is not None:
                on_record(s, lic)
            if on_item is not None:
                on_item(s, item.index, lic)
            entries.append(_issue_entry(dept, item.lt, lic, sv))
            issued.append(Issued(lic, ver, item.lt, dept, sv.verify_url, code))
        audit.record_many(s, entries)
    for item, _ in done:
        ISSUANCES.labels("business_licence" if item.lt.is_business_licence else "licence").inc()
    return issued


async def _seal_and_record(
    ctx: Context,
    dept: Department,
    chunk: list[tuple[_Item, SealJob]],
    results: list[Result | None],
    on_record: OnRecord | None = None,
    on_item: OnItem | None = None,
) -> None:
    try:
        stored = await ctx.sealer.seal_chunk([job for _, job in chunk])
        faults.point("after_blob")  # PDFs stored, nothing recorded: repair removes the blobs
        done = []
        for (item, job), result in zip(chunk, stored, strict=True):
            if isinstance(result, LayoutError):
                results[item.index] = layout_invalid(result)
            else:
                assert item.content is not None
                done.append((item, StoredVersion(item.content, job, result)))
        if done:
            for (item, _), issued in zip(done, _record(ctx, dept, done, on_record, on_item), strict=True):
                results[item.index] = issued
    except ServiceError as e:  # e.g. the business licence was registered meanwhile
        for item, _ in chunk:
            if results[item.index] is None:
                results[item.index] = e
    except Exception:
        log.exception("issuance: a chunk of %d items failed", len(chunk))
        for item, _ in chunk:
            if results[item.index] is None:
                results[item.index] = Internal(_INTERNAL)


def _alone(item: _Item) -> bool:
    """Whether an item records in a chunk of its own: one that may lose a race (a business licence
    registering its enterprise, a commitment used meanwhile) must not fail others with it."""
    return item.lt.is_business_licence or item.commitment_id is not None


def _chunks(jobs: list[tuple[_Item, SealJob]], workers: int) -> list[list[tuple[_Item, SealJob]]]:
    shared = [j for j in jobs if not _alone(j[0])]
    size = chunk_size(len(shared), workers)
    out = [shared[k : k + size] for k in range(0, len(shared), size)]
    return out + [[j] for j in jobs if _alone(j[0])]


async def issue_many(
    ctx: Context,
    dept: Department,
    requests: list[tuple[int, IssueRequest]],
    results: list[Result | None],
    on_record: OnRecord | None = None,
    on_item: OnItem | None = None,
) -> None:
    """Issue each ``(index, request)`` on its own; ``results[index]`` gets the licence or the error;
    ``on_record`` (and ``on_item``, given the index) records what goes with each licence, in its
    transaction; if it raises, nothing of the chunk is recorded."""
    with Session(ctx.engine) as s:
        items = _check(s, dept, requests, results)
        cert = ctx.keyring.current(s, OwnerKind.DEPARTMENT, dept.id) if items else None
    if not items or cert is None:
        return
    _reserve(ctx, dept, items)
    faults.point("after_reserve")  # serials used up, nothing else: gaps, never duplicates
    jobs = []
    for item in items:
        assert item.content is not None
        jobs.append((item, seal_job(ctx, dept, item.lt, cert.kid, item.content)))
    chunks = _chunks(jobs, ctx.sealer.workers)
    await asyncio.gather(*(_seal_and_record(ctx, dept, chunk, results, on_record, on_item) for chunk in chunks))


async def issue(ctx: Context, dept: Department, req: IssueRequest, on_record: OnRecord | None = None) -> Issued:
    """Issue one licence: a batch of one; ``on_record`` as for :func:`issue_many`."""
    results: list[Result | None] = [None]
    await issue_many(ctx, dept, [(0, req)], results, on_record)
    (result,) = results
    if isinstance(result, ServiceError):
        raise result
    assert result is not None
    return result
