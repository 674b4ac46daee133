"""The key backend interface. Callers never see private key material, only operations."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.signers import Signer


class KeyBackendError(RuntimeError):
    """A key operation failed: a missing key, a wrong passphrase, an unreachable token."""

    def diagnostics(self) -> str:
        return f"key backend error: {self}"


@runtime_checkable
class KeyBackend(Protocol):
    """Where private keys live: encrypted files or a PKCS#11 token."""

    name: str

    def generate(self, label: str) -> ec.EllipticCurvePublicKey:
        """Create a new ECDSA P-256 key under ``label`` and return its public key."""

    def has(self, label: str) -> bool: ...

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey: ...

    def sign(self, label: str, data: bytes) -> bytes:
        """ECDSA-SHA256 over ``data``; DER-encoded signature."""

    def pdf_signer(self, label: str, cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]) -> Signer:
        """A pyHanko signer for this key; callers cache it (it may hold a session)."""

    def check(self) -> None:
        """Raise :class:`KeyBackendError` if the backend cannot be used (health check)."""
