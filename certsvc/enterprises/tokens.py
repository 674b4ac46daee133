"""An enterprise's credentials: staff tokens managed by the legal representative, and re-issue.

Like the national 电子营业执照, the legal representative (the token from activation) gives staff
(管理员, 办事人) tokens that are scoped (:mod:`certsvc.enterprises.scopes`), expire, and can be
revoked at once. A lost token or activation code is remedied by the operator re-issuing the
enterprise (``certsvc enterprise reissue``): a new activation code, and every earlier token and
portal session ends. Tokens are stored only as hashes; every change is in the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.auth import EnterpriseCaller, require_scope
from certsvc.db.models import ApiCredential, Enterprise, utcnow
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.enterprises.scopes import SCOPES
from certsvc.enterprises.standing import end_tokens, ended_words
from certsvc.errors import Conflict, Invalid, NotFound
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.security import hash_secret, new_activation_code, new_bearer
from verify.trust import as_utc

MAX_DAYS = 365
LIST_LIMIT = 200


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def token_view(cred: ApiCredential) -> dict[str, Any]:
    """A token as the legal representative sees it: never the secret."""
    now = utcnow()
    if cred.revoked_at is not None:
        state = "revoked"
    elif cred.expires_at is not None and as_utc(cred.expires_at) <= now:
        state = "expired"
    else:
        state = "active"
    owner = cred.scopes is None
    return {
        "id": cred.id,
        "name": cred.name or ("法定代表人 · legal representative" if owner else ""),
        "legal_representative": owner,
        "scopes": list(SCOPES) if owner else list(cred.scopes or []),
        "state": state,
        "created_at": _iso(cred.created_at),
        "expires_at": _iso(cred.expires_at),
        "last_used_at": _iso(cred.last_used_at),
        "revoked_at": _iso(cred.revoked_at),
    }


def _check_scopes(scopes: list[str]) -> list[str]:
    if not scopes:
        raise Invalid(f"scopes: name at least one of {', '.join(SCOPES)}", field="scopes")
    out: list[str] = []
    for i, scope in enumerate(scopes):
        if scope not in SCOPES:
            raise Invalid(f"scopes.{i}: {scope!r} is not a scope; one of {', '.join(SCOPES)}", field=f"scopes.{i}")
        if scope not in out:
            out.append(scope)
    return out


def create_token(
    s: Session, caller: EnterpriseCaller, *, name: str, scopes: list[str], expires_in_days: int
) -> tuple[dict[str, Any], str]:
    """A staff token of ``caller``'s enterprise (only the legal representative may make one): its view
    and the token, shown only now."""
    require_scope(caller, None)
    name = name.strip()
    if not name:
        raise Invalid("name: required, the person or role the token is for", field="name")
    if not 1 <= expires_in_days <= MAX_DAYS:
        raise Invalid(f"expires_in_days: from 1 to {MAX_DAYS} days", field="expires_in_days")
    chosen = _check_scopes(scopes)
    ent = caller.enterprise
    secret = new_bearer("cse")
    cred = ApiCredential(
        kind="enterprise",
        owner_id=ent.id or 0,
        prefix=secret.prefix,
        secret_hash=secret.secret_hash,
        name=name,
        scopes=chosen,
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    s.add(cred)
    s.flush()
    audit.record(
        s,
        "enterprise.token.create",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="credential",
        subject_id=cred.id,
        details={"name": name, "scopes": chosen, "expires_at": _iso(cred.expires_at)},
    )
    return token_view(cred), secret.token


TOKENS = Keyset("tokens", (Key(col(ApiCredential.id), int, True),))


def list_tokens(s: Session, caller: EnterpriseCaller, page: PageRequest) -> dict[str, Any]:
    """The enterprise's tokens, newest first, one page (``{"items", "next_cursor"}``): the legal
    representative's and its staff's, revoked and expired ones too."""
    require_scope(caller, None)
    q = select(ApiCredential).where(ApiCredential.kind == "enterprise", ApiCredential.owner_id == caller.enterprise.id)
    rows = s.exec(page_query(q, TOKENS, page)).all()  # type: ignore[call-overload]
    found: Page[ApiCredential] = page_of(rows, TOKENS, page, lambda c: (c.id,))
    return found.answer(token_view)


def revoke_token(s: Session, caller: EnterpriseCaller, token_id: int) -> dict[str, Any]:
    """Revoke one of the enterprise's staff tokens at once (the legal representative's own token ends
    only with a re-issue, so that the enterprise cannot lock itself out)."""
    require_scope(caller, None)
    ent = caller.enterprise
    cred = s.get(ApiCredential, token_id)
    if cred is None or cred.kind != "enterprise" or cred.owner_id != ent.id:
        raise NotFound(f"your enterprise has no token with id {token_id}", field="token_id")
    if cred.scopes is None:
        raise Conflict(
            "the legal representative's token cannot be revoked here; the operator re-issues the enterprise "
            "(certsvc enterprise reissue: a new activation code that ends every earlier token)"
        )
    if cred.revoked_at is None:
        now = utcnow()
        cred.revoked_at = now
        cred.revoke_reason = f"this token was revoked on {now:%Y-%m-%d %H:%M} UTC by the legal representative"
        s.add(cred)
        audit.record(
            s,
            "enterprise.token.revoke",
            actor_kind="enterprise",
            actor_id=ent.id,
            subject_kind="credential",
            subject_id=cred.id,
            details={"name": cred.name},
        )
    return token_view(cred)


def reissue(s: Session, uscc: str) -> str:
    """A new activation code for the enterprise ``uscc`` (the operator's remedy for a lost code or
    token): every earlier token, staff tokens too, and with them every portal session, ends now."""
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc).with_for_update()).first()
    if ent is None or ent.business_licence_id is None:
        raise NotFound(f"no enterprise registered with USCC {uscc} (it needs a business licence)", field="uscc")
    ended = ended_words(s, ent)
    if ended:
        raise Conflict(f"no new activation code: {ended}")
    now = utcnow()
    reason = f"this token was ended on {now:%Y-%m-%d %H:%M} UTC: the enterprise was given a new activation code"
    tokens = end_tokens(s, ent, now, reason)
    code = new_activation_code()
    ent.activation_code_hash = hash_secret(code.replace("-", ""))
    s.add(ent)
    audit.record(
        s,
        "enterprise.reissue",
        actor_kind="operator",
        subject_kind="enterprise",
        subject_id=ent.id,
        details={"uscc": uscc, "tokens_ended": tokens},
    )
    return code
