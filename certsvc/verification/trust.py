"""The trust context (root + the service's certificates) built from the database.

Cached per process and keyed by the ``trust`` counter, which every certificate change bumps in
its own transaction: another process may rotate or revoke a key, and the database is the only
place all processes share.
"""

from __future__ import annotations

import threading

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from certsvc.db.models import Counter, Department, Enterprise, LicenceType, SigningCertificate
from certsvc.keyring import ROOT_OWNER, TSA_OWNER
from keys.ca import from_pem
from verify.trust import OwnerKind, TrustContext, TrustedCert

_lock = threading.Lock()
_cache: dict[str, tuple[int, TrustContext]] = {}


def build_trust(s: Session) -> TrustContext:
    """The trust context from the certificate rows: root, and every key with its owner and licence types."""
    rows = s.exec(select(SigningCertificate).order_by(col(SigningCertificate.id))).all()
    depts = {d.id: d for d in s.exec(select(Department))}
    types: dict[int, list[str]] = {}
    for lt in s.exec(select(LicenceType)):
        types.setdefault(lt.department_id, []).append(lt.code)
    ent_ids = [r.owner_id for r in rows if r.owner_kind == OwnerKind.ENTERPRISE]
    ents = {e.id: e for e in s.exec(select(Enterprise).where(col(Enterprise.id).in_(ent_ids)))} if ent_ids else {}
    root = None
    certs = []
    for r in rows:
        cert = from_pem(r.cert_pem)
        if r.owner_kind == ROOT_OWNER:
            root = cert
            continue
        if r.owner_kind == TSA_OWNER:  # signs time-stamps, never documents: pyHanko chains it to the root
            continue
        name, uscc = "certsvc", None
        codes: tuple[str, ...] = ()
        if r.owner_kind == OwnerKind.DEPARTMENT and r.owner_id in depts:
            d = depts[r.owner_id]
            name, uscc, codes = d.name, d.uscc, tuple(types.get(d.id or 0, []))
        elif r.owner_kind == OwnerKind.ENTERPRISE and r.owner_id in ents:
            e = ents[r.owner_id]
            name, uscc = e.name, e.uscc
        certs.append(
            TrustedCert(
                kid=r.kid,
                owner_kind=OwnerKind(r.owner_kind),
                owner_id=str(r.owner_id) if r.owner_id is not None else "",
                name=name,
                uscc=uscc,
                cert=cert,
                revoked_from=r.revoked_from,
                licence_types=codes,
            )
        )
    if root is None:
        raise LookupError("no root certificate: run `certsvc init`")
    return TrustContext(root=root, certs=tuple(certs))


TRUST_VERSION = select(Counter.value).where(Counter.name == "trust")


def trust_version(conn: Connection) -> int:
    """The ``trust`` counter: bumped by every certificate change."""
    return conn.execute(TRUST_VERSION).scalar() or 0


def trust_for(engine: Engine, conn: Connection | None = None, version: int | None = None) -> TrustContext:
    """The trust context of ``engine``, rebuilt only when the ``trust`` counter says a certificate
    changed. A caller already holding ``conn`` passes it: the version check is then one query on
    that connection, not a second connection from the pool; a caller that read the counter in its
    own query (the QR page, on every scan) passes ``version`` too, and no query is made."""
    if conn is None:
        with engine.connect() as own:
            return trust_for(engine, own, version)
    key = str(engine.url)
    if version is None:
        version = trust_version(conn)
    with _lock:
        hit = _cache.get(key)
    if hit and hit[0] == version:
        return hit[1]
    with Session(bind=conn) as s:
        trust = build_trust(s)
    with _lock:
        _cache[key] = (version, trust)
    return trust
