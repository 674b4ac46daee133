"""Grants (授权下载): an enterprise lets a named grantee download marked copies of chosen licences
for a purpose, for a limited time and number of downloads."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit, sealed
from certsvc.core.config import Settings
from certsvc.db.atomic import changed_rows
from certsvc.db.models import Enterprise, Grant, utcnow
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.enterprises.holders import chosen_licences
from certsvc.enterprises.standing import ended_words, refuse_unless_in_good_standing
from certsvc.errors import Denial, Gone, Invalid, NotFound
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.licences import status as st
from certsvc.security import hash_secret, new_token

log = logging.getLogger("certsvc")

# What a grant may name and a share link may hand out: a licence valid now (the portal greys out the rest).
DOWNLOADABLE = {st.VALID}
MAX_GRANT_DAYS = 90
_SEALED_FOR = b"certsvc share link tokens v1"
DEFAULT_GRANT_DAYS = 30
_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def valid_id_card(value: str) -> bool:
    """GB 11643 citizen ID number with its ISO 7064 MOD 11-2 check character."""
    if not _ID_CARD.match(value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


def mask_id(value: str | None) -> str | None:
    """An ID number with its middle hidden: enough for the enterprise to recognise, not to misuse."""
    if not value:
        return None
    return value if len(value) < 8 else f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


@dataclass(frozen=True)
class NewGrant:
    """A grant just created, with its share token in clear: only its hash is stored."""

    grant: Grant
    token: str


def create_grant(
    s: Session,
    ent: Enterprise,
    *,
    settings: Settings,
    licence_ids: list[str] | None,
    all_current: bool,
    grantee_name: str,
    grantee_id: str | None,
    purpose: str,
    expires_in_days: int | None,
    max_downloads: int | None,
) -> NewGrant:
    """Share some (or all current) licences of ``ent`` with a grantee, for a purpose and a time;
    refused while its business licence is suspended or revoked, and for a licence that cannot be
    downloaded now (not valid). The share token is stored hashed, and sealed for its owner to see again."""
    refuse_unless_in_good_standing(s, ent, "grant access to its licences")
    grantee_name = grantee_name.strip()
    purpose = purpose.strip()
    if not grantee_name:
        raise Invalid("grantee_name: required", field="grantee_name")
    if not purpose:
        raise Invalid("purpose: required (用证事由)", field="purpose")
    if grantee_id:
        grantee_id = grantee_id.strip().upper()
        try:
            validate_uscc(grantee_id)
        except IdentifierError:
            if not valid_id_card(grantee_id):
                raise Invalid(
                    "grantee_id: neither a valid USCC nor a valid ID card number", field="grantee_id"
                ) from None
    days = DEFAULT_GRANT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise Invalid(f"expires_in_days: between 1 and {MAX_GRANT_DAYS}", field="expires_in_days")
    if max_downloads is not None and not 1 <= max_downloads <= 1000:
        raise Invalid("max_downloads: between 1 and 1000", field="max_downloads")
    chosen = chosen_licences(s, ent.uscc, licence_ids, all_current, DOWNLOADABLE)
    for i, status in chosen.items():
        if status not in DOWNLOADABLE:
            raise Invalid(
                f"licence_ids: licence {i} is {status} ({st.LABELS[status][0]}), so nobody could download it "
                "through a grant; only valid licences may be shared",
                field="licence_ids",
            )
    ids = list(chosen)
    token = new_token(24)
    g = Grant(
        enterprise_id=ent.id or 0,
        token_hash=hash_secret(token),
        licence_ids=ids,
        grantee_name=grantee_name,
        grantee_id=grantee_id,
        purpose=purpose,
        expires_at=utcnow() + timedelta(days=days),
        max_downloads=max_downloads,
    )
    g.token_sealed = sealed.seal(settings, _SEALED_FOR, g.id, token)
    s.add(g)
    s.flush()
    audit.record(
        s,
        "grant.create",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="grant",
        subject_id=g.id,
        details={
            "licences": ids,
            "grantee": grantee_name,
            "purpose": purpose,
            "days": days,
            "max_downloads": max_downloads,
        },
    )
    return NewGrant(g, token)


def grant_state(g: Grant) -> str:
    """Whether a grant can still be used: active, revoked, expired or exhausted."""
    if g.revoked_at is not None:
        return "revoked"
    if g.expires_at <= utcnow():
        return "expired"
    if g.max_downloads is not None and g.downloads >= g.max_downloads:
        return "exhausted"
    return "active"


def grant_summary(g: Grant, base_url: str) -> dict[str, Any]:
    """A grant as its enterprise sees it in the portal, the grantee's ID masked."""
    return {
        "id": g.id,
        "licence_ids": g.licence_ids,
        "grantee_name": g.grantee_name,
        "grantee_id": mask_id(g.grantee_id),
        "purpose": g.purpose,
        "created_at": g.created_at.isoformat(),
        "expires_at": g.expires_at.isoformat(),
        "max_downloads": g.max_downloads,
        "downloads": g.downloads,
        "state": grant_state(g),
        "qr_url": f"{base_url}/api/v1/enterprise/grants/{g.id}/qr.png",
    }


def share_token(settings: Settings, g: Grant) -> str | None:
    """The share token of the enterprise's own grant, for its owner to see again; None for grants
    made before tokens were kept sealed, and for one that cannot be read back (sealed under a key
    the service no longer has)."""
    if not g.token_sealed:
        return None
    try:
        return sealed.unseal(settings, _SEALED_FOR, g.id, g.token_sealed)
    except sealed.Unreadable:
        log.warning("grant %s: its sealed share token cannot be read (sealing key changed?)", g.id)
        return None


def share_url_of(s: Session, settings: Settings, ent: Enterprise, grant_id: str) -> str:
    """The share URL of one of ``ent``'s grants, for its owner's eyes (its page, its QR code); NotFound
    for another enterprise's grant, and for a grant whose share token was not kept or cannot be read."""
    token = share_token(settings, own_grant(s, ent, grant_id))
    if token is None:
        raise NotFound("this grant's share link was shown only once, when it was made, and cannot be shown again")
    return f"{settings.public_base_url}/s/{token}"


def grants_of(s: Session, ent: Enterprise, limit: int | None = None) -> list[Grant]:
    """The grants the enterprise made, newest first (at most ``limit``)."""
    q = select(Grant).where(Grant.enterprise_id == ent.id).order_by(col(Grant.created_at).desc())
    return list(s.exec(q if limit is None else q.limit(limit)).all())


GRANTS = Keyset("grants", (Key(col(Grant.created_at), datetime, True), Key(col(Grant.id), str, True)))


def grants_page(s: Session, ent: Enterprise, page: PageRequest) -> Page[Grant]:
    """A page of the grants the enterprise made, newest first."""
    rows = s.exec(page_query(select(Grant).where(Grant.enterprise_id == ent.id), GRANTS, page)).all()  # type: ignore[call-overload]
    return page_of(rows, GRANTS, page, lambda g: (g.created_at, g.id))


def own_grant(s: Session, ent: Enterprise, grant_id: str) -> Grant:
    """A grant of ``ent``; another enterprise's grant is NotFound, as if it did not exist."""
    g = s.get(Grant, grant_id) if len(grant_id) <= 32 else None
    if g is None or g.enterprise_id != ent.id:
        raise NotFound("no such grant")
    return g


def grants_named(s: Session, ent: Enterprise, grant_ids: set[str]) -> dict[str, Grant]:
    """The enterprise's grants among ``grant_ids``, by id (others' grants are left out)."""
    if not grant_ids:
        return {}
    q = select(Grant).where(Grant.enterprise_id == ent.id, col(Grant.id).in_(grant_ids))
    return {g.id: g for g in s.exec(q)}


def revoke_grant(s: Session, ent: Enterprise, grant_id: str) -> Grant:
    """Revoke a grant of ``ent`` at once; revoking twice is harmless (and audited once, even at the same moment)."""
    g = own_grant(s, ent, grant_id)
    revoke = update(Grant).where(col(Grant.id) == g.id, col(Grant.revoked_at).is_(None)).values(revoked_at=utcnow())
    if changed_rows(s, revoke) == 1:
        audit.record(s, "grant.revoke", actor_kind="enterprise", actor_id=ent.id, subject_kind="grant", subject_id=g.id)
    s.refresh(g)
    return g


def grant_by_token(s: Session, token: str) -> Grant:
    """The grant a share token names, in any state; NotFound (with its trace) if there is none."""
    unknown = NotFound("no such share link", denial=Denial("grant_unknown", reason="no such share link"))
    if not token or len(token) > 100:
        raise unknown
    g = s.exec(select(Grant).where(Grant.token_hash == hash_secret(token))).first()
    if g is None:
        raise unknown
    return g


_REFUSALS = {
    "revoked": "download through a revoked grant",
    "expired": "download through an expired grant",
    "exhausted": "download through a used-up grant",
    "outside": "download of a licence the grant does not name",
}


def refused_download(s: Session, g: Grant, kind: str, licence_id: str | None) -> Denial:
    """The trace of a download refused through grant ``g``: audited, and shown in its holder's access log."""
    ent = s.get(Enterprise, g.enterprise_id)
    return Denial(
        f"grant_{kind}",
        subject_kind="grant",
        subject_id=g.id,
        reason=_REFUSALS[kind],
        holder_uscc=ent.uscc if ent is not None else None,
        licence_id=licence_id if licence_id in g.licence_ids else None,
        grant_id=g.id,
    )


def usable_grant(s: Session, token: str, licence_id: str | None = None) -> Grant:
    """The grant a share token names if it can still be used; Gone, with the reason, if not.

    Refusals carry their trace (:class:`~certsvc.errors.Denial`) naming ``licence_id``, the licence asked for.
    """
    g = grant_by_token(s, token)
    state = grant_state(g)
    if state != "active":
        ent = s.get(Enterprise, g.enterprise_id)
        ended = ended_words(s, ent) if ent is not None and state == "revoked" else None
        raise Gone(
            f"this share link has ended: {ended}" if ended else ENDED_LINK[state],
            denial=refused_download(s, g, state, licence_id),
        )
    return g


# Why a share link no longer works, as a sentence (with the Chinese in brackets), by grant state.
ENDED_LINK = {
    "revoked": "this share link was revoked by the enterprise (已撤销)",
    "expired": "this share link has expired (已过期)",
    "exhausted": "this share link has no downloads left (下载次数已用完)",
}
