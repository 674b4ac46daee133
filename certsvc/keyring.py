"""The service's certificates in the database, tied to keys in the key backend.

Holds per-process caches of parsed certificates and pyHanko signers; everything here can be
rebuilt from the database and the backend, so several processes share nothing in memory.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers import Signer
from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from certsvc.core import clock
from certsvc.db.atomic import changed_rows
from certsvc.db.counters import next_value
from certsvc.db.models import Counter, RevocationList, SigningCertificate
from certsvc.errors import ServiceError
from keys.backend import KeyBackend
from keys.ca import Publication, Revoked, Subject, build_crl, from_pem, issue_leaf, kid_of, make_root, to_asn1, to_pem
from signing.ltv import LtvData
from signing.pipeline import SealKey
from signing.tsa import LocalTsa
from verify.trust import OwnerKind, as_utc

ROOT_LABEL = "root-ca"
SERVICE_OWNER = OwnerKind.SERVICE
ROOT_OWNER = "root"  # the root CA's row; not an owner kind of the trust list
TSA_OWNER = "tsa"  # the time-stamping authority's row; not a document signer, not in the trust list
ROOT_NAME = "root"
"""The root CA's public name: its CRL is ``/crl/root.crl``, its certificate ``/ca/root.crt``."""
LTV_RECHECK_S = 30.0
"""Seconds a process reuses the CRL it embeds in new signatures before asking the database again
(a CRL is valid for days; a revoked key signs nothing new, so a slightly older CRL is still right)."""
CRL_VALIDITY = timedelta(days=7)
CRL_REFRESH = timedelta(days=2)
"""A CRL is re-issued when less than this is left before its nextUpdate (or when its entries change)."""
KEY_COMPROMISE = "key_compromise"
CESSATION = "cessation_of_operation"


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

    def __init__(self, engine: Engine, backend: KeyBackend, public_base_url: str = "http://127.0.0.1:8000") -> None:
        self.engine = engine
        self.backend = backend
        self.publication = Publication(
            crl_url=f"{public_base_url}/crl/{ROOT_NAME}.crl", issuer_cert_url=f"{public_base_url}/ca/{ROOT_NAME}.crt"
        )
        self._crl: tuple[int, RevocationList] | None = None
        self._tsa: CertInfo | None = None
        self._timestamper: LocalTsa | None = None
        self._ltv: tuple[float, LtvData] | None = None
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
            self.tsa(session)  # installations from before the TSA get one on their next `certsvc init`
            self.crl(session)
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
                publication=self.publication,
            ),
            SERVICE_OWNER,
            None,
            "service-seal-1",
        )
        self._root = info
        self.tsa(session)
        self.crl(session)
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
        cert = issue_leaf(self.backend, ROOT_LABEL, root.cert, label, subject, publication=self.publication)
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

    def revoke_from(
        self, session: Session, when: datetime, *which: ColumnElement[bool], reason: str = KEY_COMPROMISE
    ) -> int:
        """Mark the certificates ``which`` selects compromised from ``when`` (an earlier mark stands),
        bump the trust version so every process rebuilds its trust context, and publish a new CRL
        listing them, all in the caller's transaction; how many changed. ``reason`` is the CRL's
        (RFC 5280 name: ``key_compromise``, ``cessation_of_operation``, …)."""
        revoked_from = col(SigningCertificate.revoked_from)
        changed = changed_rows(
            session,
            update(SigningCertificate)
            .where(*which, or_(revoked_from.is_(None), revoked_from > when))
            .values(revoked_from=when, revocation_reason=reason),
        )
        if changed:
            next_value(session, "trust")
            self.crl(session)
        return changed

    # --- time-stamping authority and revocation lists ----------------------------------

    def tsa(self, session: Session) -> CertInfo:
        """The time-stamping authority's certificate (created under the root on first use: critical
        ``timeStamping`` EKU, key in the same backend). The oldest one, should two processes race."""
        if self._tsa is not None:
            return self._tsa
        query = select(SigningCertificate).where(SigningCertificate.owner_kind == TSA_OWNER)
        row = session.exec(query.order_by(col(SigningCertificate.id))).first()
        if row is None:
            root = self.root()
            label = f"tsa-{datetime.now(UTC):%Y%m%d%H%M%S}"
            cert = issue_leaf(
                self.backend,
                ROOT_LABEL,
                root.cert,
                label,
                Subject("certsvc 时间戳服务 Time-Stamping Authority", "certsvc"),
                years=12,
                publication=self.publication,
                time_stamping=True,
            )
            info = self._store(session, cert, TSA_OWNER, None, label)
        else:
            info = _info(row)
        self._tsa = info
        return info

    def timestamper(self) -> LocalTsa:
        """The time-stamping authority as signers use it in-process (and ``POST /tsa`` answers with):
        the key stays in the backend, the time comes from the service's clock."""
        if self._timestamper is None:
            with Session(self.engine, expire_on_commit=False) as s:
                info = self.tsa(s)
                s.commit()
            label = info.key_label
            self._timestamper = LocalTsa(info.asn1, lambda data: self.backend.sign(label, data), clock=clock.now)
        return self._timestamper

    def ltv(self, info: CertInfo | None = None) -> LtvData:
        """The TSA and the DSS content (root, TSA and ``info``'s certificates, the root's CRL) for a
        signature made now; the CRL is re-read at most every :data:`LTV_RECHECK_S` seconds."""
        hit = self._ltv
        if hit is None or time.monotonic() - hit[0] > LTV_RECHECK_S:
            tsa = self.timestamper()
            with Session(self.engine, expire_on_commit=False) as s:
                crl = self.crl(s).der
                s.commit()
            der = serialization.Encoding.DER
            certs = (self.root().cert.public_bytes(der), tsa.cert.dump())
            hit = self._ltv = (time.monotonic(), LtvData(tsa, certs, (crl,)))
        data = hit[1]
        return data.with_certs([info.cert.public_bytes(serialization.Encoding.DER)]) if info is not None else data

    def crl(self, session: Session) -> RevocationList:
        """The root's current CRL: the newest published one, or a new one when the revoked
        certificates changed or its nextUpdate is near. Every process serves the same bytes (the
        newest row; a process that loses the race to publish number *n* reads the winner's)."""
        version = session.exec(select(Counter.value).where(Counter.name == "trust")).first() or 0
        now = clock.now()
        with self._lock:
            hit = self._crl
        if hit is not None and hit[0] == version and as_utc(hit[1].next_update) - now > CRL_REFRESH:
            return hit[1]
        # columns, not entities: a bulk UPDATE earlier in this session leaves entities stale
        rows = session.exec(
            select(
                SigningCertificate.cert_pem, SigningCertificate.revoked_from, SigningCertificate.revocation_reason
            ).where(col(SigningCertificate.revoked_from).is_not(None))
        ).all()
        revoked = [
            Revoked(from_pem(pem).serial_number, as_utc(when), reason or "unspecified")
            for pem, when, reason in rows
            if when is not None
        ]
        digest = hashlib.sha256(
            repr(sorted((e.serial, e.revoked_from.isoformat(), e.reason) for e in revoked)).encode()
        ).hexdigest()
        latest = self._latest_crl(session)
        if latest is None or latest.entries != digest or as_utc(latest.next_update) - now <= CRL_REFRESH:
            published = self._publish_crl(session, latest, revoked, digest, now)
            with self._lock:
                self._crl = None  # cached once read back committed: this transaction may yet roll back
            return published
        with self._lock:
            self._crl = (version, latest)
        return latest

    def _latest_crl(self, session: Session) -> RevocationList | None:
        return session.exec(
            select(RevocationList).where(RevocationList.issuer == ROOT_NAME).order_by(col(RevocationList.number).desc())
        ).first()

    def _publish_crl(
        self,
        session: Session,
        latest: RevocationList | None,
        revoked: list[Revoked],
        digest: str,
        now: datetime,
    ) -> RevocationList:
        root = self.root()
        number = (latest.number if latest else 0) + 1
        der = build_crl(
            self.backend,
            ROOT_LABEL,
            root.cert,
            revoked,
            number=number,
            this_update=now - timedelta(minutes=5),
            next_update=now + CRL_VALIDITY,
        )
        row = RevocationList(
            issuer=ROOT_NAME,
            number=number,
            entries=digest,
            this_update=now - timedelta(minutes=5),
            next_update=now + CRL_VALIDITY,
            der=der,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another process published this number first: serve theirs
            winner = self._latest_crl(session)
            if winner is None:
                raise
            return winner
        return row

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
        return SealKey(info.kid, self.signer(info), lambda data: self.backend.sign(label, data), lambda: self.ltv(info))
