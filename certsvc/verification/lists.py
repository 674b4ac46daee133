"""What verifiers that work offline fetch: the trust list (as JSON, or as a JWS by the root key),
the status list (an IETF Token Status List JWT, or the same inside a JSON envelope) and the JWKS.

The status list follows draft-ietf-oauth-status-list: 2 bits per licence version (0 valid,
1 revoked, 2 suspended, 3 superseded), least significant bit first, ZLIB-compressed and
base64url-encoded, covering whole blocks of shuffled indexes (:mod:`certsvc.licences.status_index`).
It is a compact JWT (ES256, ``typ: statuslist+jwt``) signed by the service seal, whose key is in
the JWKS and on the trust list. Expiry is not in the list: the QR payload carries validity.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from sqlalchemy import text
from sqlmodel import Session, col, select

from certsvc.context import Context
from certsvc.db.models import Licence, LicenceVersion, utcnow
from certsvc.keyring import SERVICE_OWNER
from certsvc.licences import status as st
from certsvc.licences.status_index import list_entries
from certsvc.verification.trust import trust_for
from keys.ca import kid_of, to_pem
from signing.jws import compact_es256
from signing.payload import STATUS_LIST_PATH, unb64url
from verify.status_list import encode_status_list
from verify.trust import OwnerKind

STATUS_LIST_TYP = "statuslist+jwt"
CODES = {"0": "valid", "1": "revoked", "2": "suspended", "3": "superseded"}
JWKS_KINDS = (OwnerKind.DEPARTMENT, OwnerKind.SERVICE)  # they sign QR payloads, lists and events

_lock = threading.Lock()
_status_cache: dict[str, tuple[tuple[int, int], str, float]] = {}
_trust_cache: dict[str, tuple[int, str, float]] = {}
_COUNTERS = text("SELECT name, value FROM counter WHERE name IN ('status', 'trust')")


def status_list_uri(ctx: Context) -> str:
    """The status list's URL: the JWT's ``sub``, and the ``uri`` a QR payload's status claim names."""
    return ctx.settings.public_base_url + STATUS_LIST_PATH


def _counters(s: Session) -> dict[str, int]:
    return {str(name): int(value) for name, value in s.execute(_COUNTERS)}


def trust_list(ctx: Context) -> dict[str, Any]:
    """The list of certificates, for verifying licences offline."""
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
        "status_list_uri": status_list_uri(ctx),
        "generated_at": utcnow().isoformat(),
    }


def trust_list_jws(ctx: Context) -> str:
    """The trust list as a compact JWS by the root's key (header ``kid`` and ``x5c`` of the root);
    signed again only when a certificate changed or the status list's time-to-live passed."""
    key = str(ctx.engine.url)
    with Session(ctx.engine) as s:
        version = _counters(s).get("trust", 0)
    now = utcnow().timestamp()
    with _lock:
        hit = _trust_cache.get(key)
    if hit and hit[0] == version and hit[2] > now:
        return hit[1]
    root = ctx.keyring.root()
    der = root.cert.public_bytes(serialization.Encoding.DER)
    header = {"typ": "JWT", "kid": kid_of(der), "x5c": [base64.b64encode(der).decode()]}
    token = compact_es256(header, trust_list(ctx), lambda data: ctx.keyring.sign_raw(root, data))
    with _lock:
        _trust_cache[key] = (version, token, now + ctx.settings.status_list_ttl_s)
    return token


def jwks(ctx: Context) -> dict[str, Any]:
    """The public keys that sign QR payloads, status lists and events, rotated ones included (older
    licences still carry their signatures): ``kid`` as on the trust list and in the QR payload's
    COSE header (hex of its 8 bytes), ``x5c`` the certificate and the root, and ``revoked_from``
    (not a registered JWK member; readers that do not know it ignore it) where a key is compromised."""
    trust = trust_for(ctx.engine)
    root_b64 = base64.b64encode(trust.root.public_bytes(serialization.Encoding.DER)).decode()
    keys = []
    for c in trust.certs:
        if c.owner_kind not in JWKS_KINDS:
            continue
        extra: dict[str, Any] = {
            "kid": c.kid,
            "use": "sig",
            "alg": "ES256",
            "x5c": [base64.b64encode(c.der).decode(), root_b64],
        }
        if c.revoked_from is not None:
            extra["revoked_from"] = c.revoked_from.isoformat()
        public = c.cert.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):  # always, for keys this service makes
            keys.append(ECKey.import_key(public).as_dict(**extra))
    return {"keys": keys}


def _codes(s: Session) -> dict[int, int]:
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
    return codes


def status_list_token(ctx: Context) -> str:
    """The Token Status List JWT. Rebuilt only when a status changed (the ``status`` counter moved),
    the list must grow by a block, or half its time-to-live passed; else served from memory."""
    key = str(ctx.engine.url)
    with Session(ctx.engine) as s:
        state = (_counters(s).get("status", 0), list_entries(s))
        now = utcnow()
        with _lock:
            hit = _status_cache.get(key)
        if hit and hit[0] == state and hit[2] > now.timestamp():
            return hit[1]
        lst = encode_status_list(_codes(s), bits=2, min_entries=state[1])
        until = now + timedelta(seconds=ctx.settings.status_list_ttl_s)
        payload = {
            "iss": ctx.settings.public_base_url,
            "sub": status_list_uri(ctx),
            "iat": int(now.timestamp()),
            "exp": int(until.timestamp()),
            "ttl": ctx.settings.status_list_ttl_s,
            "status_list": {"bits": 2, "lst": lst},
        }
        cert = ctx.keyring.current(s, SERVICE_OWNER, None)
        header = {"typ": STATUS_LIST_TYP, "kid": cert.kid}
        token = compact_es256(header, payload, lambda data: ctx.keyring.sign_raw(cert, data))
    with _lock:  # served for half its life, so that every client gets at least half the TTL
        _status_cache[key] = (state, token, now.timestamp() + ctx.settings.status_list_ttl_s / 2)
    return token


def status_list(ctx: Context) -> dict[str, Any]:
    """The status list for JSON clients: the JWT (``jws``), its claims (``payload``, as signed) and
    what each code means (``codes``, not signed: the draft's status types)."""
    token = status_list_token(ctx)
    return {"payload": json.loads(unb64url(token.split(".")[1])), "jws": token, "codes": CODES}
