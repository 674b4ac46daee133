"""The service's certificates in the database, tied to keys in the key backend.

Holds per-process caches of parsed certificates and pyHanko signers; everything here can be
rebuilt from the database and the backend, so several processes share nothing in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers import Signer
from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from certsvc.db.atomic import changed_rows
from certsvc.db.counters import next_value
from certsvc.db.models import Counter, SigningCertificate
from certsvc.errors import ServiceError
from keys.backend import KeyBackend
from keys.ca import Subject, from_pem, issue_leaf, kid_of, make_root, to_asn1, to_pem
from signing.pipeline import SealKey
from verify.trust import OwnerKind

ROOT_LABEL = "root-ca"
SERVICE_OWNER = OwnerKind.SERVICE
ROOT_OWNER = "root"  # the root CA's row; not an owner kind of the trust list


class NoCertificate(ServiceError, LookupError):
    """No active certificate for an owner: its key was never issued or has been retired (also a
    LookupError, as callers catch it)."""

    code = "no_certificate"

    def diagnostics(self) -> str:
        return f"no certificate: {self}"


@dataclass(frozen=True)
class CertInfo:
    """A certificate and the key label behind it, as the keyring hands them to signers and verifiers."""

    kid: str
    owner_kind: str
    owner_id: int | None
    key_label: str
    cert: x509.Certificate
    not_before: datetime
    not_after: datetime
    revoked_from: datetime | None
    active: bool

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return to_asn1(self.cert)

    @property
    def pem(self) -> str:
        return to_pem(self.cert)


def _info(row: SigningCertificate) -> CertInfo:
    return CertInfo(
        kid=row.kid,
        owner_kind=row.owner_kind,
        owner_id=row.owner_id,
        key_label=row.key_label,
        cert=from_pem(row.cert_pem),
        not_before=row.not_before,
        not_after=row.not_after,
        revoked_from=row.revoked_from,
        active=row.active,
    )


class Keyring:
    """The service's certificates (root, departments, enterprises, service) over a key backend, cached per process."""

    def __init__(self, engine: Engine, backend: KeyBackend) -> None:
        self.engine = engine
        self.backend = backend
        self._signers: dict[str, Signer] = {}
        self._current: dict[tuple[str, int | None], tuple[int, CertInfo]] = {}
        self._root: CertInfo | None = None
        self._lock = threading.Lock()

    # --- creation ---------------------------------------------------------------------

    def _store(
        self, session: Session, cert: x509.Certificate, owner_kind: str, owner_id: int | None, label: str
    ) -> CertInfo:
        der = cert.public_bytes(serialization.Encoding.DER)
        row = SigningCertificate(
            kid=kid_of(der),
            owner_kind=owner_kind,
            owner_id=owner_id,
            key_label=label,
            cert_pem=to_pem(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )
        session.add(row)
        session.flush()
        next_value(session, "trust")  # tells every process to rebuild its trust context
        return _info(row)

    def ensure_root(self, session: Session) -> CertInfo:
        row = session.exec(select(SigningCertificate).where(SigningCertificate.owner_kind == ROOT_OWNER)).first()
        if row:
            self._root = _info(row)
            return self._root
        cert = make_root(self.backend, ROOT_LABEL, Subject("certsvc 电子证照根证书 Root CA", "certsvc"))
        info = self._store(session, cert, ROOT_OWNER, None, ROOT_LABEL)
        self._store(
            session,
            issue_leaf(
                self.backend,
                ROOT_LABEL,
                cert,
                "service-seal-1",
                Subject("certsvc 电子证照服务 Service Seal", "certsvc"),
            ),
            SERVICE_OWNER,
            None,
            "service-seal-1",
        )
        self._root = info
        return info

    def root(self) -> CertInfo:
        if self._root is None:
            with Session(self.engine) as s:
                row = s.exec(select(SigningCertificate).where(SigningCertificate.owner_kind == ROOT_OWNER)).first()
                if row is None:
                    raise NoCertificate("the service has no root CA yet: run `certsvc init`")
                self._root = _info(row)
        return self._root

    def issue(self, session: Session, owner_kind: OwnerKind, owner_id: int, subject: Subject) -> CertInfo:
        """A new key and certificate for a department seal or an enterprise; old ones stay."""
        root = self.root()
        n = len(
            session.exec(
                select(SigningCertificate).where(
                    SigningCertificate.owner_kind == owner_kind, SigningCertificate.owner_id == owner_id
                )
            ).all()
        )
        label = f"{owner_kind}-{owner_id}-{n + 1}-{datetime.now(UTC):%Y%m%d%H%M%S}"
        cert = issue_leaf(self.backend, ROOT_LABEL, root.cert, label, subject)
        for old in session.exec(
            select(SigningCertificate).where(
                SigningCertificate.owner_kind == owner_kind,
                SigningCertificate.owner_id == owner_id,
                SigningCertificate.active == True,  # noqa: E712
            )
        ):
            old.active = False
            session.add(old)
        return self._store(session, cert, owner_kind, owner_id, label)

    # --- lookup -----------------------------------------------------------------------

    def current(self, session: Session, owner_kind: OwnerKind, owner_id: int | None) -> CertInfo:
        """The active certificate of an owner; cached until any certificate changes anywhere
        (the ``trust`` counter, bumped in the same transaction as every change)."""
        version = session.exec(select(Counter.value).where(Counter.name == "trust")).first() or 0
        key = (owner_kind, owner_id)
        with self._lock:
            hit = self._current.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        info = self._current_uncached(session, owner_kind, owner_id)
        with self._lock:
            self._current[key] = (version, info)
        return info

    def _current_uncached(self, session: Session, owner_kind: str, owner_id: int | None) -> CertInfo:
        row = session.exec(
            select(SigningCertificate)
            .where(
                SigningCertificate.owner_kind == owner_kind,
                SigningCertificate.owner_id == owner_id,
                SigningCertificate.active == True,  # noqa: E712
            )
            .order_by(col(SigningCertificate.id).desc())
        ).first()
        if row is None:
            raise NoCertificate(f"no active certificate for {owner_kind} {owner_id}")
        return _info(row)

    def by_kid(self, session: Session, kid: str) -> CertInfo | None:
        row = session.exec(select(SigningCertificate).where(SigningCertificate.kid == kid)).first()
        return _info(row) if row else None

    def all(self, session: Session) -> list[CertInfo]:
        return [_info(r) for r in session.exec(select(SigningCertificate).order_by(col(SigningCertificate.id)))]

    def revoke_from(self, session: Session, when: datetime, *which: ColumnElement[bool]) -> int:
        """Mark the certificates ``which`` selects compromised from ``when`` (an earlier mark stands),
        and bump the trust version so every process rebuilds its trust context; how many changed."""
        revoked_from = col(SigningCertificate.revoked_from)
        changed = changed_rows(
            session,
            update(SigningCertificate)
            .where(*which, or_(revoked_from.is_(None), revoked_from > when))
            .values(revoked_from=when),
        )
        if changed:
            next_value(session, "trust")
        return changed

    # --- use --------------------------------------------------------------------------

    def signer(self, info: CertInfo) -> Signer:
        with self._lock:
            signer = self._signers.get(info.kid)
            if signer is None:
                signer = self.backend.pdf_signer(info.key_label, info.asn1, [info.asn1, self.root().asn1])
                self._signers[info.kid] = signer
            return signer

    def sign_raw(self, info: CertInfo, data: bytes) -> bytes:
        return self.backend.sign(info.key_label, data)

    def seal_key(self, info: CertInfo) -> SealKey:
        """The key of ``info`` as :mod:`signing.pipeline` uses it (PDF signer and QR signer)."""
        label = info.key_label
        return SealKey(info.kid, self.signer(info), lambda data: self.backend.sign(label, data))
