"""The trust list and the signed status list, for verifiers that work offline.

The status list follows the W3C Bitstring Status List: 2 bits per licence version (0 valid,
1 suspended, 2 revoked, 3 superseded), gzip-compressed and base64url-encoded, at least 16 KB
before compression. It is signed as a compact JWS (ES256) by the service seal, whose
certificate is on the trust list. Expiry is not in the list: the QR payload carries validity.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlmodel import Session, col, select

from certsvc.context import Context
from certsvc.db.models import Counter, Licence, LicenceVersion, utcnow
from certsvc.keyring import SERVICE_OWNER
from certsvc.licences import status as st
from certsvc.verification.trust import trust_for
from keys.ca import to_pem
from signing.payload import b64url
from verify.status_list import encode_status_list
from verify.trust import OwnerKind

_lock = threading.Lock()
_cache: dict[str, tuple[int, dict[str, Any]]] = {}


def trust_list(ctx: Context) -> dict[str, Any]:
    """The signed list of certificates, for verifying licences offline."""
    trust = trust_for(ctx.engine)
    issuers = []
    for c in trust.certs:
        entry: dict[str, Any] = {
            "kid": c.kid,
            "kind": c.owner_kind,
            "department": c.name,  # for the service's own seal: the service's name
            "uscc": c.uscc,
            "certificate": to_pem(c.cert),
            "licence_types": list(c.licence_types),
            "not_before": c.cert.not_valid_before_utc.isoformat(),
            "not_after": c.cert.not_valid_after_utc.isoformat(),
        }
        if c.owner_kind == OwnerKind.ENTERPRISE:
            entry["holder"] = entry.pop("department")
        if c.revoked_from is not None:
            entry["revoked_from"] = c.revoked_from.isoformat()
        issuers.append(entry)
    return {
        "root": to_pem(trust.root),
        "issuers": [i for i in issuers if i["kind"] != "enterprise"],
        "enterprises": [i for i in issuers if i["kind"] == "enterprise"],
        "generated_at": utcnow().isoformat(),
    }


def _jws(ctx: Context, s: Session, payload: dict[str, Any]) -> str:
    cert = ctx.keyring.current(s, SERVICE_OWNER, None)
    header = {"alg": "ES256", "kid": cert.kid, "typ": "statuslist+jwt"}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    )
    r, sig_s = decode_dss_signature(ctx.keyring.sign_raw(cert, signing_input.encode()))
    return signing_input + "." + b64url(r.to_bytes(32, "big") + sig_s.to_bytes(32, "big"))


def status_list(ctx: Context) -> dict[str, Any]:
    """Rebuilt only when a status changed (the ``status`` counter moved), else served from memory."""
    key = str(ctx.engine.url)
    with Session(ctx.engine) as s:
        row = s.exec(select(Counter).where(Counter.name == "status")).first()
        version = row.value if row else 0
        with _lock:
            hit = _cache.get(key)
        if hit and hit[0] == version and hit[1]["valid_until_ts"] > utcnow().timestamp():
            return hit[1]["body"]
        codes: dict[int, int] = {}
        rows = s.exec(
            select(Licence, LicenceVersion)
            .join(LicenceVersion, col(LicenceVersion.licence_id) == col(Licence.id))
            .where((col(Licence.state) != st.VALID) | (col(LicenceVersion.superseded_at).is_not(None)))
        )
        for lic, ver in rows:
            code = st.stored_code(lic, ver)
            if code:
                codes[ver.status_index] = code
        now = utcnow()
        until = now + timedelta(seconds=ctx.settings.status_list_ttl_s)
        payload = {
            "iss": ctx.settings.public_base_url,
            "iat": int(now.timestamp()),
            "exp": int(until.timestamp()),
            "ttl": ctx.settings.status_list_ttl_s,
            "status_list": {"bits": 2, "lst": encode_status_list(codes, bits=2)},
            "codes": {"0": "valid", "1": "suspended", "2": "revoked", "3": "superseded"},
        }
        body = {"payload": payload, "jws": _jws(ctx, s, payload)}
    with _lock:
        _cache[key] = (version, {"body": body, "valid_until_ts": until.timestamp()})
    return body
