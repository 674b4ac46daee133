"""Secrets: generation, hashing, and constant-time comparison of bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from signing.payload import PayloadError, SignedPayload, parse_signed


@dataclass(frozen=True)
class IssuedSecret:
    """A secret as handed out once (``token``) and as stored (``prefix``, ``secret_hash``)."""

    token: str
    prefix: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret; these are random tokens, so no slow KDF is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_bearer(kind: str) -> IssuedSecret:
    """A bearer token ``<kind>_<prefix>_<secret>``; the prefix locates the stored hash."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = f"{kind}_{prefix}_{secret}"
    return IssuedSecret(token=token, prefix=prefix, secret_hash=hash_secret(token))


def split_bearer(token: str) -> tuple[str, str] | None:
    """Return ``(kind, prefix)`` of a well-formed bearer token, or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or not all(parts) or len(token) > 200:
        return None
    return parts[0], parts[1]


def matches(token: str, stored_hash: str) -> bool:
    """Whether ``token`` hashes to ``stored_hash``, in constant time."""
    return hmac.compare_digest(hash_secret(token), stored_hash)


def new_token(nbytes: int = 16) -> str:
    """An unguessable URL-safe token (128 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def new_activation_code() -> str:
    """A one-time activation code, readable aloud: 4 groups of 4 from an unambiguous alphabet."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_activation_code(code: str) -> str:
    """An activation code as typed by a person (spaces, lower case) in its stored form."""
    return code.strip().upper().replace(" ", "")


def token_key(token: str) -> str:
    """The hash of an issued QR token, kept unique in the database (look-ups go by what the token says:
    :func:`qr_statement`, :func:`records_statement`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def qr_statement(token: str) -> SignedPayload | None:
    """The signed statement in a scanned QR token, or None when it is not one in the one encoding
    the service issues (:func:`signing.payload.parse_signed`): not verified, only decoded."""
    try:
        return parse_signed(token)
    except (PayloadError, ValueError, TypeError, KeyError, OverflowError, RecursionError):
        return None


def records_statement(issued_token: str, scanned: SignedPayload) -> bool:
    """Whether the token the service issued is the statement ``scanned`` (the same claims under the
    same signature, up to ECDSA's sign of s): a licence or receipt is found by what its token says,
    its identifier, and this confirms the service issued that very statement."""
    if issued_token == scanned.token:  # the token as issued: most scans
        return True
    issued = qr_statement(issued_token)
    return issued is not None and issued.same_statement(scanned)
