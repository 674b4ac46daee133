"""Who is calling: bearer tokens resolved to a department or an enterprise, and what they may do.

A credential is checked in this order: well formed, known, the secret matches (constant time),
then not revoked and not expired. Only a caller holding the whole token learns why it no longer
works (revoked on …, expired on …); a guess of its prefix learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from certsvc.db.models import ApiCredential, Department, Enterprise, utcnow
from certsvc.enterprises.standing import ended_words
from certsvc.errors import Denial, Forbidden, Unauthorized
from certsvc.security import matches, split_bearer
from verify.trust import as_utc

_KINDS = {"csd": "department", "cse": "enterprise"}
_NOUN = {"department": "API key", "enterprise": "token"}
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _refused(message: str, kind: str, reason: str, cred: ApiCredential | None = None) -> Unauthorized:
    """The refusal of a bad key, with its trace; the credential is named only when it exists."""
    denial = Denial(
        "bad_key",
        subject_kind="credential" if cred is not None else None,
        subject_id=cred.id if cred is not None else None,
        reason=f"{kind} key: {reason}",
    )
    return Unauthorized(message, denial=denial, token_given=True)


def _why_revoked(session: Session, cred: ApiCredential) -> str:
    """Why a revoked credential no longer works, in words for the 401."""
    if cred.revoke_reason:
        return cred.revoke_reason
    if cred.kind == "enterprise":
        ent = session.get(Enterprise, cred.owner_id)
        words = ended_words(session, ent) if ent is not None else None
        if words:
            return words
    when = as_utc(cred.revoked_at) if cred.revoked_at else None
    on = f" on {when:%Y-%m-%d %H:%M} UTC" if when else ""
    return f"this {_NOUN.get(cred.kind, 'key')} was revoked{on}"


def _credential(session: Session, token: str, kind: str) -> ApiCredential:
    parsed = split_bearer(token)
    if parsed is None or _KINDS.get(parsed[0]) != kind:
        raise _refused(f"this is not {'an' if kind == 'enterprise' else 'a'} {kind} {_NOUN[kind]}", kind, "malformed")
    cred = session.exec(select(ApiCredential).where(ApiCredential.prefix == parsed[1])).first()
    if cred is None or cred.kind != kind or not matches(token, cred.secret_hash):
        raise _refused(f"unknown {kind} {_NOUN[kind]}", kind, "unknown" if cred is None else "wrong secret", cred)
    now = utcnow()
    if cred.revoked_at is not None:
        raise _refused(_why_revoked(session, cred), kind, "revoked", cred)
    if cred.expires_at is not None and as_utc(cred.expires_at) <= now:
        raise _refused(
            f"this {_NOUN[kind]} expired on {as_utc(cred.expires_at):%Y-%m-%d %H:%M} UTC", kind, "expired", cred
        )
    if cred.last_used_at is None or now - as_utc(cred.last_used_at) > LAST_USED_RESOLUTION:
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


@dataclass(frozen=True)
class EnterpriseCaller:
    """An enterprise and the credential it called with: ``scopes`` None is the legal representative's token."""

    enterprise: Enterprise
    credential_id: int
    scopes: tuple[str, ...] | None

    @property
    def is_legal_representative(self) -> bool:
        """Whether this is the token from activation, which may do everything (and manage staff tokens)."""
        return self.scopes is None


def enterprise_caller_for(session: Session, token: str) -> EnterpriseCaller:
    """The enterprise a token belongs to and what the token may do; Unauthorized for bad tokens."""
    cred = _credential(session, token, "enterprise")
    ent = session.get(Enterprise, cred.owner_id)
    if ent is None:
        raise _refused("the enterprise of this token no longer exists", "enterprise", "owner gone", cred)
    scopes = tuple(cred.scopes) if cred.scopes is not None else None
    return EnterpriseCaller(ent, cred.id or 0, scopes)


def enterprise_for(session: Session, token: str) -> Enterprise:
    """The enterprise a portal token belongs to; Unauthorized for unknown, revoked or orphaned tokens."""
    return enterprise_caller_for(session, token).enterprise


def require_scope(caller: EnterpriseCaller, scope: str | None) -> None:
    """403 naming the scope when ``caller``'s token lacks it (recorded as a denial); ``scope`` None:
    only the legal representative's token."""
    if caller.scopes is None or (scope is not None and scope in caller.scopes):
        return
    ent = caller.enterprise
    if scope is None:
        message = "only the legal representative's token (the one from activation) may manage tokens"
        reason = "needs the legal representative's token"
    else:
        message = f"this token lacks the scope {scope!r}; it has: {', '.join(caller.scopes) or 'none'}"
        reason = f"needs scope {scope}"
    denial = Denial(
        "scope",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="credential",
        subject_id=caller.credential_id,
        reason=reason,
    )
    raise Forbidden(message, denial=denial)


def principal_for(session: Session, token: str) -> Department | Enterprise:
    """The department or enterprise a bearer token belongs to, whichever kind it is; Unauthorized if neither."""
    parsed = split_bearer(token)
    if parsed is not None and _KINDS.get(parsed[0]) == "department":
        return department_for(session, token)
    return enterprise_for(session, token)
