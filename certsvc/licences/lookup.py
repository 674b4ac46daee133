"""The hot paths behind every QR scan and every verified upload: one indexed query, reference rows
cached per process.

Licence types and departments never change once created (the API has no rename), so caching
them per process is safe; the licence and version columns are read fresh on every scan, so a
suspension or revocation shows at once, in every process.
"""

from __future__ import annotations

import threading
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, case, or_, select
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.orm import aliased
from sqlmodel import col

from certsvc.core.clock import today
from certsvc.db.models import Commitment, Department, Enterprise, Licence, LicenceType, LicenceVersion
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.db.session import read_once
from certsvc.licences.history import as_of, moment
from certsvc.licences.view_cache import PublicViewCache
from certsvc.licences.views import public_view
from certsvc.reform import terms
from certsvc.security import qr_statement, records_statement
from certsvc.verification.trust import TRUST_VERSION, trust_for
from signing.payload import KIND_LICENCE, SignedPayload
from verify.trust import TrustContext

# Column names, not columns: the namespaces built from a row take their attribute names from here.
_VERSION_KEYS = (
    "version",
    "identifier",
    "holder_name",
    "valid_from",
    "valid_until",
    "issued_at",
    "pdf_sha256",
    "superseded_at",
    "signer_kid",
)
_LICENCE_KEYS = (
    "id",
    "number",
    "current_version",
    "holder_uscc",
    "state",
    "state_reason",
    "revoke_kind",
    "licence_type_id",
    "department_id",
    "kind",
    "issued_on",
)
_VERSION_COLS = tuple(col(getattr(LicenceVersion, k)) for k in _VERSION_KEYS)
_LICENCE_COLS = tuple(col(getattr(Licence, k)) for k in _LICENCE_KEYS)
# The holder's business licence (一注到底): its state shows on every page about the holder's licences.
_HOLDER_BL = aliased(Licence, name="holder_bl")
_HOLDER_COLS: tuple[Any, ...] = (
    col(_HOLDER_BL.state).label("holder_state"),
    col(_HOLDER_BL.revoke_kind).label("holder_revoke_kind"),
    col(_HOLDER_BL.id).label("holder_licence_id"),
)


# The commitment a licence was issued with (告知承诺): public, shown with the licence everywhere.
_COMMITMENT_COLS: tuple[Any, ...] = (
    col(Commitment.id).label("c_id"),
    col(Commitment.status).label("c_status"),
    col(Commitment.due).label("c_due"),
    col(Commitment.text).label("c_text"),
    col(Commitment.signed_at).label("c_signed_at"),
    col(Commitment.decided_at).label("c_decided_at"),
)


def _with_holder(query: Select[Any]) -> Select[Any]:
    """``query`` (over Licence) with the state of the holder's business licence, if it has one here,
    and the commitment the licence was issued with, if any."""
    return (
        query.add_columns(*_HOLDER_COLS, *_COMMITMENT_COLS)
        .outerjoin(Enterprise, col(Enterprise.uscc) == col(Licence.holder_uscc))
        .outerjoin(_HOLDER_BL, col(_HOLDER_BL.id) == col(Enterprise.business_licence_id))
        .outerjoin(Commitment, col(Commitment.licence_id) == col(Licence.id))
    )


def _commitment(m: RowMapping, base_url: str) -> dict[str, Any] | None:
    if m["c_id"] is None:
        return None
    return terms.public_commitment(
        m["c_id"], m["c_status"], m["c_due"], m["c_text"], m["c_signed_at"], m["c_decided_at"], base_url, today()
    )


# Built once with a bound parameter: building the statement per request costs more than running it.
_JOINED = _with_holder(
    select(*_VERSION_COLS, *_LICENCE_COLS).join(Licence, col(Licence.id) == col(LicenceVersion.licence_id))
)
# The trust list's version comes with the row: one round trip per scan, not two.
_BY_IDENTIFIER = _JOINED.add_columns(
    col(LicenceVersion.qr_payload), TRUST_VERSION.scalar_subquery().label("trust_version")
).where(col(LicenceVersion.identifier) == bindparam("key"))
_BY_SHA = (
    _JOINED.add_columns(TRUST_VERSION.scalar_subquery().label("trust_version"))
    .where(col(LicenceVersion.pdf_sha256) == bindparam("key"))
    .limit(1)
)

_lock = threading.Lock()
_types: dict[int, Any] = {}
_departments: dict[int, Any] = {}


def _reference(conn: Connection, cache: dict[int, Any], model: Any, key: int, cols: tuple[str, ...]) -> Any:
    """A cached stand-in for a LicenceType or Department row: only ``cols``, duck-typed."""
    with _lock:
        hit = cache.get(key)
    if hit is not None:
        return hit
    row = conn.execute(select(*(getattr(model, c) for c in cols)).where(model.id == key)).one()
    value = SimpleNamespace(**dict(zip(cols, row, strict=True)))
    with _lock:
        cache[key] = value
    return value


def _judge_seal(trust: TrustContext, ver: Any, view: dict[str, Any]) -> dict[str, Any]:
    """``view``, refused as ``signature_invalid`` when the version was sealed at or after its key's
    ``revoked_from`` (key compromise): the same rule as ``/verify`` and ``/verify/qr`` apply."""
    entry = trust.by_kid(ver.signer_kid)
    if entry is None or not entry.revoked_at(ver.issued_at):
        return view
    problem = (
        f"The seal was made at {ver.issued_at:%Y-%m-%d %H:%M:%S} UTC with a key of {entry.name} that is revoked "
        f"(compromised) from {entry.revoked_from:%Y-%m-%d %H:%M:%S} UTC; it proves nothing."
    )
    view.update(
        genuine=False,
        verdict="signature_invalid",
        status_label="签章无效",
        status_label_en="Seal not valid: its key was revoked",
        seal_problem=problem,
    )
    return view


def _holder(m: RowMapping) -> tuple[str | None, str | None]:
    return m["holder_state"], m["holder_revoke_kind"]


def _licence_and_version(m: RowMapping) -> tuple[Any, Any]:
    # stand-ins for Licence and LicenceVersion, duck-typed: only the columns the views read
    lic = SimpleNamespace(**{k: m[k] for k in _LICENCE_KEYS})
    ver = SimpleNamespace(**{k: m[k] for k in _VERSION_KEYS})
    return lic, ver


def _view(
    conn: Connection,
    query: Select[Any],
    key: str,
    base_url: str,
    scanned: SignedPayload | None = None,
    at: datetime | None = None,
) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute(query, {"key": key}).first()
    if row is None:
        return None
    if scanned is not None and not records_statement(row._mapping["qr_payload"], scanned):
        return None
    lic, ver = _licence_and_version(row._mapping)
    lt = _reference(conn, _types, LicenceType, lic.licence_type_id, ("code", "name"))
    dept = _reference(conn, _departments, Department, lic.department_id, ("name", "uscc"))
    m = row._mapping
    trust = trust_for(conn.engine, conn, m.get("trust_version"))
    view = _judge_seal(trust, ver, public_view(lic, ver, lt, dept, base_url, _holder(m), _commitment(m, base_url)))
    if at is not None:
        as_of(conn, view, lic.id, m["holder_licence_id"], at)
        terms.as_of(view, m["c_status"], moment(at))
    return lic.id, view


def current_clause() -> Any:
    """The licence (joined with its current version) is current: valid and not expired, or suspended."""
    until = col(LicenceVersion.valid_until)
    return or_(
        col(Licence.state) == "suspended",
        and_(col(Licence.state) == "valid", or_(until.is_(None), until >= bindparam("today", type_=Date))),
    )


# Current licences first, the business licence (the holder's identity) first among them; then the rest.
RANK = case((and_(current_clause(), col(LicenceType.is_business_licence)), 0), (current_clause(), 1), else_=2).label(
    "rank"
)
# Newest first by first issue (amending a licence does not move it), within each rank on ``/e/``.
HELD = Keyset("held", (Key(col(Licence.created_at), datetime, True), Key(col(Licence.id), str, True)))
SHOWN = Keyset("shown", (Key(RANK, int), *HELD.keys))


def held_licences(*columns: Any) -> Select[Any]:
    """``columns`` for every licence held under the USCC bound as ``key``, joined with its current
    version, licence type and issuing department; unordered (see :data:`HELD`)."""
    return (
        select(*columns)
        .select_from(Licence)
        .join(
            LicenceVersion,
            (col(LicenceVersion.licence_id) == col(Licence.id))
            & (col(LicenceVersion.version) == col(Licence.current_version)),
        )
        .join(LicenceType, col(LicenceType.id) == col(Licence.licence_type_id))
        .join(Department, col(Department.id) == col(Licence.department_id))
        .where(col(Licence.holder_uscc) == bindparam("key"))
    )


_BY_HOLDER = _with_holder(
    held_licences(
        *_VERSION_COLS,
        LicenceVersion.qr_payload,
        *_LICENCE_COLS,
        col(Licence.created_at).label("created_at"),
        LicenceType.code,
        LicenceType.name,
        col(Department.name).label("dept_name"),
        col(Department.uscc).label("dept_uscc"),
        RANK,
    )
)


def public_views_of_holder(conn: Connection, uscc: str, base_url: str, page: PageRequest) -> Page[dict[str, Any]]:
    """A page of public views of the licences held under ``uscc`` (current versions), current ones first
    (the business licence first), newest first, each with its ``verify_url`` and whether it is ``current``."""
    views = []
    trust = trust_for(conn.engine, conn)
    rows = conn.execute(page_query(_BY_HOLDER, SHOWN, page), {"key": uscc, "today": today()}).all()
    for row in rows[: page.limit]:
        m = row._mapping
        lic, ver = _licence_and_version(m)
        lt: Any = SimpleNamespace(code=m["code"], name=m["name"])
        dept: Any = SimpleNamespace(name=m["dept_name"], uscc=m["dept_uscc"])
        view = _judge_seal(trust, ver, public_view(lic, ver, lt, dept, base_url, _holder(m), _commitment(m, base_url)))
        view["verify_url"] = f"{base_url}/v/{m['qr_payload']}"
        view["current"] = m["rank"] < 2 and view["genuine"]
        views.append(view)
    keys = page_of(rows, SHOWN, page, lambda r: (r._mapping["rank"], r._mapping["created_at"], r._mapping["id"]))
    return Page(views, keys.next_cursor)


def public_view_by_token(
    conn: Connection, token: str, base_url: str, at: datetime | None = None
) -> tuple[str, dict[str, Any]] | None:
    """``(licence id, public view)`` for a QR token, or None if it is not ours; with ``at``, the
    status as of that moment (:mod:`certsvc.licences.history`)."""
    scanned = qr_statement(token)
    if scanned is None or scanned.claims.kind != KIND_LICENCE:
        return None
    return _view(conn, _BY_IDENTIFIER, scanned.claims.identifier, base_url, scanned, at)


async def scan_view(
    engine: Engine, cache: PublicViewCache, token: str, base_url: str, at: datetime | None = None
) -> tuple[str, dict[str, Any]] | None:
    """What the QR page shows for ``token``: from this process's cache of public views when it
    holds the token (PostgreSQL, without ``at``), else one query on the read engine (on the event
    loop, as before: one indexed query costs less than a hop to a thread)."""
    if at is not None:
        return read_once(engine, lambda conn: public_view_by_token(conn, token, base_url, at))
    hit, generation = await cache.get(token)
    if hit is not None:
        return hit
    day = today()
    found = read_once(engine, lambda conn: public_view_by_token(conn, token, base_url))
    if found is not None:
        await cache.put(token, generation, found, day)
    return found


def public_view_by_statement(
    conn: Connection, scanned: SignedPayload, base_url: str
) -> tuple[str, dict[str, Any]] | None:
    """``(licence id, public view)`` of the licence version a QR statement names by its identifier,
    provided the service issued that very statement (:func:`certsvc.security.records_statement`)."""
    return _view(conn, _BY_IDENTIFIER, scanned.claims.identifier, base_url, scanned)


def public_view_by_sha(
    conn: Connection, sha256: str, base_url: str, at: datetime | None = None
) -> tuple[str, dict[str, Any]] | None:
    """``(licence id, public view)`` of the licence version whose sealed PDF has this SHA-256 (as of ``at``)."""
    return _view(conn, _BY_SHA, sha256, base_url, at=at)
