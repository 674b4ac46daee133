"""What the verifier trusts: our root certificate and the certificates it issued, with their owners.

Revocation is ours to decide (``revoked_from``), checked by policy against the signing time; pyHanko
validates only the chain, offline, with no CRL or OCSP fetching.

A :class:`TrustContext` crosses the process boundary to the analysis workers. cryptography's
certificate objects cannot be pickled, so it pickles as DER bytes and plain values, and each worker
keeps the contexts it has already rebuilt (keyed by a fingerprint) so that repeated jobs cost
nothing to unpickle.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, overload

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator import ValidationContext

from keys.ca import kid_of, uscc_of
from verify.report import TrustContextError


class OwnerKind(StrEnum):
    """Whom a certificate issued by our root belongs to."""

    DEPARTMENT = "department"  # seals licences and receipts
    ENTERPRISE = "enterprise"  # signs its own documents (business-licence certificate)
    SERVICE = "service"  # the service itself: marks copies, signs QR payloads and lists


OWNER_KINDS: frozenset[OwnerKind] = frozenset(OwnerKind)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@overload
def as_utc(t: datetime) -> datetime: ...
@overload
def as_utc(t: None) -> None: ...
def as_utc(t: datetime | None) -> datetime | None:
    """``t`` with UTC attached if it has no zone (databases hand back naive UTC); None stays None."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TrustedCert:
    """A certificate issued by our root, and whom it belongs to."""

    kid: str
    owner_kind: OwnerKind
    owner_id: str
    name: str
    uscc: str | None
    cert: x509.Certificate
    revoked_from: datetime | None = None
    licence_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.owner_kind not in OWNER_KINDS:
            raise TrustContextError(f"unknown owner kind {self.owner_kind!r} for kid {self.kid}")
        object.__setattr__(self, "owner_kind", OwnerKind(self.owner_kind))
        if kid_of(_der(self.cert)) != self.kid:
            raise TrustContextError(f"kid {self.kid} does not match its certificate")
        object.__setattr__(self, "revoked_from", as_utc(self.revoked_from))

    @classmethod
    def from_cert(
        cls,
        cert: x509.Certificate,
        owner_kind: OwnerKind,
        owner_id: str,
        name: str,
        *,
        revoked_from: datetime | None = None,
        licence_types: tuple[str, ...] = (),
    ) -> TrustedCert:
        """Build an entry, deriving ``kid`` and ``uscc`` from the certificate."""
        return cls(
            kid=kid_of(_der(cert)),
            owner_kind=owner_kind,
            owner_id=owner_id,
            name=name,
            uscc=uscc_of(cert),
            cert=cert,
            revoked_from=revoked_from,
            licence_types=tuple(licence_types),
        )

    @property
    def der(self) -> bytes:
        return _der(self.cert)

    def revoked_at(self, moment: datetime | None) -> bool:
        """Whether the certificate counts as revoked at ``moment``.

        With no moment known (no signing time), a certificate that has any revocation date is
        treated as revoked: we cannot show the signature predates it.
        """
        if self.revoked_from is None:
            return False
        if moment is None:
            return True
        return self.revoked_from <= as_utc(moment)

    def valid_at(self, moment: datetime) -> bool:
        """Whether the certificate is within its validity period and not revoked at ``moment``."""
        t = as_utc(moment)
        return self.cert.not_valid_before_utc <= t <= self.cert.not_valid_after_utc and not self.revoked_at(t)


_REBUILT: dict[str, TrustContext] = {}
_REBUILT_MAX = 8


def _rebuild(fingerprint: str, state: bytes) -> TrustContext:
    """Unpickle a TrustContext; reuse one already rebuilt in this process."""
    hit = _REBUILT.get(fingerprint)
    if hit is not None:
        return hit
    root_der, entries = pickle.loads(state)  # noqa: S301 - our own bytes, from our parent process
    ctx = TrustContext(
        root=x509.load_der_x509_certificate(root_der),
        certs=tuple(
            TrustedCert(
                kid=kid,
                owner_kind=OwnerKind(kind),
                owner_id=owner_id,
                name=name,
                uscc=uscc,
                cert=x509.load_der_x509_certificate(der),
                revoked_from=revoked_from,
                licence_types=tuple(types),
            )
            for kid, kind, owner_id, name, uscc, der, revoked_from, types in entries
        ),
    )
    if len(_REBUILT) >= _REBUILT_MAX:
        _REBUILT.pop(next(iter(_REBUILT)))
    _REBUILT[fingerprint] = ctx
    return ctx


@dataclass(frozen=True)
class TrustContext:
    """Our root and the certificates it issued (department seals, enterprise, service)."""

    root: x509.Certificate
    certs: tuple[TrustedCert, ...] = ()
    _by_kid: dict[str, TrustedCert] = field(init=False, repr=False, compare=False)
    _by_der: dict[bytes, TrustedCert] = field(init=False, repr=False, compare=False)
    _root_asn1: asn1_x509.Certificate = field(init=False, repr=False, compare=False)
    _state: bytes = field(init=False, repr=False, compare=False)
    fingerprint: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        by_kid: dict[str, TrustedCert] = {}
        for c in self.certs:
            if c.kid in by_kid:
                raise TrustContextError(f"kid {c.kid} appears twice")
            by_kid[c.kid] = c
        root_der = _der(self.root)
        entries = [
            (c.kid, c.owner_kind.value, c.owner_id, c.name, c.uscc, c.der, c.revoked_from, c.licence_types)
            for c in self.certs
        ]
        state = pickle.dumps((root_der, entries), protocol=pickle.HIGHEST_PROTOCOL)
        # The fingerprint is over the values, not the pickle: pickle's bytes depend on which equal
        # strings happen to be one object (its memo), which differs after a round trip.
        canonical = repr(
            [root_der.hex(), [[*e[:5], e[5].hex(), e[6] and e[6].isoformat(), list(e[7])] for e in entries]]
        )
        object.__setattr__(self, "_by_kid", by_kid)
        object.__setattr__(self, "_by_der", {c.der: c for c in self.certs})
        object.__setattr__(self, "_root_asn1", asn1_x509.Certificate.load(root_der))
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "fingerprint", hashlib.sha256(canonical.encode()).hexdigest())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.fingerprint, self._state))

    @property
    def root_kid(self) -> str:
        return kid_of(_der(self.root))

    def by_kid(self, kid: str) -> TrustedCert | None:
        return self._by_kid.get(kid)

    def by_cert_der(self, der: bytes) -> TrustedCert | None:
        return self._by_der.get(der)

    def validation_context(self, moment: datetime | None = None) -> ValidationContext:
        """A fresh pyHanko validation context: our root only, offline, no revocation fetching.

        Building one costs about 0.1 ms (the parsed root is cached), and a fresh one per
        signature keeps certificates embedded in one (possibly hostile) file out of the next
        file's path building. ``moment`` lets a signature be judged at its signing time, so that
        a licence sealed with a since-expired seal certificate still verifies.
        """
        return ValidationContext(
            trust_roots=[self._root_asn1],
            allow_fetching=False,
            revocation_mode="soft-fail",
            moment=as_utc(moment),
        )

    def issued_by_root(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` carries a valid signature of our root (no path building, no time)."""
        if cert.issuer != self.root.subject:
            return False
        try:
            cert.verify_directly_issued_by(self.root)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True
