"""The portal's sessions: signed session values, CSRF tokens, signing in and out.

A session value does not hold the enterprise token: it is ``<credential id>.<session id>.<expiry>.<mac>``,
where the MAC is an HMAC-SHA256, under a key kept in ``<data dir>/portal-secret`` (created 0600),
over those three parts and the stored hash of the credential. A stolen value therefore never reveals
the long-lived token, it expires, and it dies with the credential (revoked or replaced) or when it
signs out (its session id is kept as ended until the value would have expired). Signing in and out
are in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session, select

from certsvc import audit
from certsvc.auth import enterprise_for
from certsvc.core.files import secret_key_file
from certsvc.db.models import ApiCredential, EndedSession, Enterprise
from certsvc.enterprises import accounts
from certsvc.errors import Denial, Unauthorized
from certsvc.security import split_bearer

_secrets: dict[Path, bytes] = {}


def portal_secret(data_dir: Path) -> bytes:
    """The portal's HMAC key: 32 random bytes in the data directory, created 0600 exactly once."""
    path = data_dir / "portal-secret"
    cached = _secrets.get(path)
    if cached is not None:
        return cached
    key = secret_key_file(path)
    _secrets[path] = key
    return key


def _mac(secret: bytes, purpose: str, message: str) -> str:
    key = hmac.new(secret, f"certsvc-portal:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def session_value(secret: bytes, cred: ApiCredential, sid: str, expires: int) -> str:
    """The signed value of session ``sid``; its MAC covers the credential's hash, so it dies with the credential."""
    body = f"{cred.id}.{sid}.{expires}"
    return f"{body}.{_mac(secret, 'session', f'{body}.{cred.secret_hash}')}"


def new_session_value(secret: bytes, cred: ApiCredential, ttl: int) -> str:
    """A fresh session of ``cred`` that expires in ``ttl`` seconds."""
    return session_value(secret, cred, secrets.token_urlsafe(16), int(time.time()) + ttl)


def csrf_for_session(secret: bytes, sid: str) -> str:
    """The CSRF token of a signed-in session's forms."""
    return _mac(secret, "csrf", f"session:{sid}")


def csrf_for_pre(secret: bytes, nonce: str) -> str:
    """The CSRF token of the sign-in and activation forms, bound to the pre-session nonce."""
    return _mac(secret, "csrf", f"pre:{nonce}")


@dataclass
class PortalSession:
    """A signed-in portal session: the enterprise, the session id, its forms' CSRF token, when it expires."""

    enterprise: Enterprise
    sid: str
    csrf: str
    expires: int


def read_session(s: Session, secret: bytes, value: str | None) -> PortalSession | None:
    """The signed-in enterprise, or None for a missing, forged, expired or revoked session."""
    if not value or len(value) > 300:
        return None
    parts = value.split(".")
    if len(parts) != 4 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[0]) > 9:
        return None
    if not parts[2].isascii() or not parts[2].isdigit() or len(parts[2]) > 12:
        return None
    cred_id, sid, expires = int(parts[0]), parts[1], int(parts[2])
    if expires < time.time() or not sid or len(sid) > 32:
        return None
    cred = s.get(ApiCredential, cred_id)
    if cred is None or cred.kind != "enterprise" or cred.revoked_at is not None or cred.scopes is not None:
        return None
    if not hmac.compare_digest(session_value(secret, cred, sid, expires), value):
        return None
    if s.get(EndedSession, sid) is not None:  # signed out
        return None
    ent = s.get(Enterprise, cred.owner_id)
    if ent is None:
        return None
    return PortalSession(ent, sid, csrf_for_session(secret, sid), expires)


@dataclass(frozen=True)
class SignedIn:
    """A sign-in or activation that succeeded: the enterprise, the credential to start a session of, the token."""

    enterprise: Enterprise
    credential: ApiCredential
    token: str


def sign_in(s: Session, token: str) -> SignedIn:
    """Authenticate the enterprise token (hash compared in constant time) and record the sign-in."""
    ent = enterprise_for(s, token)
    parsed = split_bearer(token)
    assert parsed is not None
    cred = s.exec(select(ApiCredential).where(ApiCredential.prefix == parsed[1])).one()
    if cred.scopes is not None:  # the portal's pages do everything: it is the legal representative's
        raise Unauthorized(
            "a staff token works with the API only (its scopes); the portal takes the legal representative's token",
            token_given=True,
            denial=Denial(
                "bad_key", subject_kind="credential", subject_id=cred.id, reason="staff token at the portal sign-in"
            ),
        )
    _record(s, "portal.signin", ent)
    return SignedIn(ent, cred, token)


def activate(s: Session, uscc: str, code: str, client: str, limits: accounts.ActivationLimits) -> SignedIn:
    """Activate with the one-time code from ``client`` and sign in with the new token.

    A wrong code is committed before :class:`Unauthorized` is raised: it counts towards the rate limit.
    """
    try:
        token = accounts.activate(s, uscc, code, client, limits)
    except Unauthorized:
        s.commit()
        raise
    s.flush()
    return sign_in(s, token)


def sign_out(s: Session, sess: PortalSession) -> None:
    """End the session before its value expires (and forget sessions that have expired anyway)."""
    now = datetime.now(UTC)
    s.execute(delete(EndedSession).where(EndedSession.expires_at < now))  # type: ignore[arg-type]
    s.add(EndedSession(sid=sess.sid, expires_at=datetime.fromtimestamp(sess.expires, UTC)))
    _record(s, "portal.signout", sess.enterprise)


def _record(s: Session, action: str, ent: Enterprise) -> None:
    audit.record(s, action, actor_kind="enterprise", actor_id=ent.id, subject_kind="enterprise", subject_id=ent.id)
