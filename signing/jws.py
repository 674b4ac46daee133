"""Compact JWS (ES256) whose signature comes from the key backend, which may be an HSM.

A JOSE library wants the private key in hand; ours never leaves the backend. So the signing input
is built here (RFC 7515 §7.1) and the backend's DER ECDSA signature is turned into the raw
``r || s`` that JWS uses (RFC 7518 §3.4). Verifying is left to a JOSE library (joserfc).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from signing.payload import b64url


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def compact_es256(header: dict[str, Any], payload: dict[str, Any], sign_der: Callable[[bytes], bytes]) -> str:
    """``header.payload.signature``: ``header`` gets ``alg: ES256``; ``sign_der`` signs with
    ECDSA-SHA256 on P-256 and returns DER, as :meth:`keys.backend.KeyBackend.sign` does."""
    signing_input = b64url(_json({"alg": "ES256", **header})) + "." + b64url(_json(payload))
    r, s = decode_dss_signature(sign_der(signing_input.encode()))
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
