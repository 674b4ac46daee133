"""Who is calling: bearer tokens resolved to a department or an enterprise."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from certsvc.db.models import ApiCredential, Department, Enterprise, utcnow
from certsvc.enterprises.standing import ended_words
from certsvc.errors import Denial, Unauthorized
from certsvc.security import matches, split_bearer

_KINDS = {"csd": "department", "cse": "enterprise"}
_KEY_WORDS = {"department": "department API key", "enterprise": "enterprise token"}
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _refused(message: str, kind: str, reason: str, cred: ApiCredential | None = None) -> Unauthorized:
    """The refusal of a bad key, with its trace; the credential is named only when it exists."""
    denial = Denial(
        "bad_key",
        subject_kind="credential" if cred is not None else None,
        subject_id=cred.id if cred is not None else None,
        reason=f"{kind} key: {reason}",
    )
    return Unauthorized(message, denial=denial)


def _article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _why_revoked(session: Session, cred: ApiCredential) -> str | None:
    """The reason an enterprise token ended with its business licence, in words for the 401."""
    if cred.kind != "enterprise":
        return None
    ent = session.get(Enterprise, cred.owner_id)
    return ended_words(session, ent) if ent is not None else None


def _credential(session: Session, token: str, kind: str) -> ApiCredential:
    parsed = split_bearer(token)
    if parsed is None or _KINDS.get(parsed[0]) != kind:
        raise _refused(f"this is not {_article(_KEY_WORDS[kind])}", kind, "malformed")
    cred = session.exec(select(ApiCredential).where(ApiCredential.prefix == parsed[1])).first()
    if cred is None or cred.kind != kind:
        raise _refused(f"unknown or revoked {_KEY_WORDS[kind]}", kind, "unknown")
    if cred.revoked_at is not None:
        raise _refused(_why_revoked(session, cred) or f"unknown or revoked {_KEY_WORDS[kind]}", kind, "revoked", cred)
    if not matches(token, cred.secret_hash):
        raise _refused(f"unknown or revoked {_KEY_WORDS[kind]}", kind, "wrong secret", cred)
    now = utcnow()
    if cred.last_used_at is None or now - cred.last_used_at > LAST_USED_RESOLUTION:
        cred.last_used_at = now  # a write per minute at most, not one per request
        session.add(cred)
    return cred


def department_for(session: Session, token: str) -> Department:
    """The department an API key belongs to; Unauthorized for unknown, revoked or orphaned keys."""
    cred = _credential(session, token, "department")
    dept = session.get(Department, cred.owner_id)
    if dept is None:
        raise _refused("the department of this key no longer exists", "department", "owner gone", cred)
    return dept


def enterprise_for(session: Session, token: str) -> Enterprise:
    """The enterprise a portal token belongs to; Unauthorized for unknown, revoked or orphaned tokens."""
    cred = _credential(session, token, "enterprise")
    ent = session.get(Enterprise, cred.owner_id)
    if ent is None:
        raise _refused("the enterprise of this token no longer exists", "enterprise", "owner gone", cred)
    return ent


def principal_for(session: Session, token: str) -> Department | Enterprise:
    """The department or enterprise a bearer token belongs to, whichever kind it is; Unauthorized if neither."""
    parsed = split_bearer(token)
    if parsed is not None and _KINDS.get(parsed[0]) == "department":
        return department_for(session, token)
    return enterprise_for(session, token)
