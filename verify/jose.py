"""Checking the JWTs the service publishes (the status list, the signed trust list) with a JOSE
library (joserfc): ES256 only, sizes bounded, claims checked by its JWT claims registry."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry

from signing.payload import PayloadError, unb64url

MAX_HEADER = 8 * 1024  # a header with the root certificate in ``x5c``
MAX_PAYLOAD = 64 * 1024 * 1024


class JwtError(ValueError):
    """A JWT that cannot be read, does not verify, or whose claims do not hold; the message says which."""


class JwtExpired(JwtError):
    """A JWT whose ``exp`` has passed."""


def _registry() -> JWSRegistry:
    reg = JWSRegistry(algorithms=["ES256"])
    reg.max_header_length = MAX_HEADER
    reg.max_payload_length = MAX_PAYLOAD
    return reg


def _part(token: str, n: int) -> dict[str, Any]:
    try:
        value = json.loads(unb64url(token.split(".")[n]))
    except (IndexError, PayloadError, ValueError, UnicodeDecodeError) as e:
        raise JwtError("not a compact JWS") from e
    if not isinstance(value, dict):
        raise JwtError("not a compact JWS")
    return value


def unverified_header(token: str) -> dict[str, Any]:
    """The protected header, read before the signature is checked (to find the key by ``kid``)."""
    return _part(token, 0)


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload, read before the signature is checked (the trust list names its own root)."""
    return _part(token, 1)


def verify_es256(
    token: str, key: ec.EllipticCurvePublicKey, *, typ: str, now: int, claims: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The claims of a compact JWT signed with ``key`` (ES256) whose header ``typ`` is ``typ``, once
    its signature verifies and its claims hold at ``now`` (Unix time): ``exp``, ``iat`` not in the
    future, and the options in ``claims`` (joserfc's ``JWTClaimsRegistry`` options)."""
    try:
        decoded = jwt.decode(token, ECKey.import_key(key), algorithms=["ES256"], registry=_registry())
    except JoseError as e:
        raise JwtError(f"its signature does not verify ({e.error})") from e
    if decoded.header.get("typ") != typ:
        raise JwtError(f"its type is {decoded.header.get('typ')!r}, not {typ!r}")
    registry = jwt.JWTClaimsRegistry(now=now, **(claims or {}))
    try:
        registry.validate(decoded.claims)
    except ExpiredTokenError as e:
        raise JwtExpired("it expired") from e
    except JoseError as e:
        raise JwtError(f"its claims do not hold ({e.description or e.error})") from e
    return dict(decoded.claims)
