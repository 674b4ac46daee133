"""The hot paths behind every QR scan and every verified upload: one indexed query, reference rows
cached per process.

Licence types and departments never change once created (the API has no rename), so caching
them per process is safe; the licence and version columns are read fresh on every scan, so a
suspension or revocation shows at once, in every process.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Connection

from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion
from certsvc.licences.views import public_view
from certsvc.security import token_key

_VERSION_COLS = (
    LicenceVersion.version,
    LicenceVersion.identifier,
    LicenceVersion.holder_name,
    LicenceVersion.valid_from,
    LicenceVersion.valid_until,
    LicenceVersion.issued_at,
    LicenceVersion.pdf_sha256,
    LicenceVersion.superseded_at,
)
_LICENCE_COLS = (
    Licence.id,
    Licence.number,
    Licence.current_version,
    Licence.holder_uscc,
    Licence.state,
    Licence.state_reason,
    Licence.revoke_kind,
    Licence.licence_type_id,
    Licence.department_id,
)
# Built once with a bound parameter: building the statement per request costs more than running it.
_JOINED = select(*_VERSION_COLS, *_LICENCE_COLS).join(
    Licence,
    Licence.id == LicenceVersion.licence_id,  # type: ignore[arg-type]
)
_BY_TOKEN = _JOINED.where(LicenceVersion.qr_token == bindparam("key"))
_BY_SHA = _JOINED.where(LicenceVersion.pdf_sha256 == bindparam("key")).limit(1)

_lock = threading.Lock()
_types: dict[int, SimpleNamespace] = {}
_departments: dict[int, SimpleNamespace] = {}


def _reference(
    conn: Connection, cache: dict[int, SimpleNamespace], model: Any, key: int, cols: tuple[str, ...]
) -> SimpleNamespace:  # noqa: ANN401
    with _lock:
        hit = cache.get(key)
    if hit is not None:
        return hit
    row = conn.execute(select(*(getattr(model, c) for c in cols)).where(model.id == key)).one()
    value = SimpleNamespace(**dict(zip(cols, row, strict=True)))
    with _lock:
        cache[key] = value
    return value


def _licence_and_version(m: Any) -> tuple[SimpleNamespace, SimpleNamespace]:  # noqa: ANN401 - RowMapping
    lic = SimpleNamespace(**{c.key: m[c.key] for c in _LICENCE_COLS})
    ver = SimpleNamespace(**{c.key: m[c.key] for c in _VERSION_COLS})
    return lic, ver


def _view(conn: Connection, query: Any, key: str, base_url: str) -> tuple[str, dict[str, Any]] | None:  # noqa: ANN401
    row = conn.execute(query, {"key": key}).first()
    if row is None:
        return None
    lic, ver = _licence_and_version(row._mapping)
    lt = _reference(conn, _types, LicenceType, lic.licence_type_id, ("code", "name"))
    dept = _reference(conn, _departments, Department, lic.department_id, ("name", "uscc"))
    return lic.id, public_view(lic, ver, lt, dept, base_url)  # type: ignore[arg-type]


def held_licences(*columns: Any) -> Select:  # noqa: ANN401
    """``columns`` for every licence held under the USCC bound as ``key``, joined with its current
    version, licence type and issuing department; newest first."""
    return (
        select(*columns)
        .select_from(Licence)
        .join(
            LicenceVersion,
            (LicenceVersion.licence_id == Licence.id) & (LicenceVersion.version == Licence.current_version),  # type: ignore[arg-type]
        )
        .join(LicenceType, LicenceType.id == Licence.licence_type_id)  # type: ignore[arg-type]
        .join(Department, Department.id == Licence.department_id)  # type: ignore[arg-type]
        .where(Licence.holder_uscc == bindparam("key"))
        .order_by(LicenceVersion.issued_at.desc(), Licence.id)  # type: ignore[attr-defined]
    )


_BY_HOLDER = held_licences(
    *_VERSION_COLS,
    LicenceVersion.qr_payload,
    *_LICENCE_COLS,
    LicenceType.code,
    LicenceType.name,
    Department.name.label("dept_name"),  # type: ignore[attr-defined]
    Department.uscc.label("dept_uscc"),  # type: ignore[attr-defined]
)


def public_views_of_holder(conn: Connection, uscc: str, base_url: str) -> list[dict[str, Any]]:
    """Public views of every licence held under ``uscc`` (current versions), newest first, each
    with its ``verify_url``: the columns they show, without loading whole rows."""
    views = []
    for row in conn.execute(_BY_HOLDER, {"key": uscc}):
        m = row._mapping
        lic, ver = _licence_and_version(m)
        lt = SimpleNamespace(code=m["code"], name=m["name"])
        dept = SimpleNamespace(name=m["dept_name"], uscc=m["dept_uscc"])
        view = public_view(lic, ver, lt, dept, base_url)  # type: ignore[arg-type]
        view["verify_url"] = f"{base_url}/v/{m['qr_payload']}"
        views.append(view)
    return views


def public_view_by_token(conn: Connection, token: str, base_url: str) -> tuple[str, dict[str, Any]] | None:
    """``(licence id, public view)`` for a QR token, or None if it is not ours."""
    if len(token) > 1000:
        return None
    return _view(conn, _BY_TOKEN, token_key(token), base_url)


def public_view_by_sha(conn: Connection, sha256: str, base_url: str) -> tuple[str, dict[str, Any]] | None:
    """``(licence id, public view)`` of the licence version whose sealed PDF has this SHA-256."""
    return _view(conn, _BY_SHA, sha256, base_url)
