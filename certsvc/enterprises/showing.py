"""Live showing (亮照): an enterprise shows chosen licences at a counter through a code that lives
30 to 600 seconds. The scanner sees the licences' public views (as on ``/e/``) and when the code
expires; afterwards, and once the business licence is revoked, the code is gone (410).

The token is unguessable and stored hashed; it is also sealed (:mod:`certsvc.sealed`) so that the
enterprise's own portal can draw its QR code again on each refresh of the page that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from certsvc import audit, sealed
from certsvc.core.config import Settings
from certsvc.db.models import Enterprise, LiveShow, utcnow
from certsvc.db.paging import MAX_LIMIT, PageRequest
from certsvc.enterprises.holders import CURRENT, chosen_licences, holder_licences
from certsvc.enterprises.standing import ended_words, refuse_unless_in_good_standing
from certsvc.errors import Gone, Invalid, NotFound
from certsvc.licences.lookup import public_views_of_holder
from certsvc.security import hash_secret, new_token

MIN_SECONDS = 30
MAX_SECONDS = 600
_SEALED_FOR = b"certsvc live show tokens v1"
EXPIRED = "this live code has expired (亮照码已过期): ask the enterprise to show a new one"


@dataclass(frozen=True)
class NewShow:
    """A live code just made, with its token in clear (stored only hashed and sealed)."""

    show: LiveShow
    token: str


def create_show(
    s: Session,
    ent: Enterprise,
    *,
    settings: Settings,
    licence_ids: list[str] | None,
    all_current: bool,
    expires_in_seconds: int,
) -> NewShow:
    """A code that shows some (or all current) licences of ``ent`` for ``expires_in_seconds``;
    refused while its business licence is suspended or revoked."""
    refuse_unless_in_good_standing(s, ent, "show its licences live")
    if not MIN_SECONDS <= expires_in_seconds <= MAX_SECONDS:
        raise Invalid(
            f"expires_in_seconds: between {MIN_SECONDS} and {MAX_SECONDS} seconds", field="expires_in_seconds"
        )
    ids = list(chosen_licences(s, ent.uscc, licence_ids, all_current, CURRENT))
    token = new_token(24)
    show = LiveShow(
        enterprise_id=ent.id or 0,
        token_hash=hash_secret(token),
        token_sealed="",
        licence_ids=ids,
        all_current=all_current,
        seconds=expires_in_seconds,
        expires_at=utcnow() + timedelta(seconds=expires_in_seconds),
    )
    show.token_sealed = sealed.seal(settings, _SEALED_FOR, show.id, token)
    s.add(show)
    s.flush()
    audit.record(
        s,
        "show.create",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="live_show",
        subject_id=show.id,
        details={"licences": ids, "all_current": all_current, "seconds": expires_in_seconds},
    )
    return NewShow(show, token)


def show_token(settings: Settings, show: LiveShow) -> str:
    """The token of one of the enterprise's own codes, to draw it again; Gone when it cannot be read
    back (sealed under a key the service no longer has)."""
    try:
        return sealed.unseal(settings, _SEALED_FOR, show.id, show.token_sealed)
    except sealed.Unreadable:
        raise Gone("this live code cannot be shown again; make a new one (此亮照码无法再次显示，请重新生成)") from None


def own_show(s: Session, ent: Enterprise, show_id: str) -> LiveShow:
    """A code of ``ent``; another enterprise's is NotFound, as if it did not exist."""
    show = s.get(LiveShow, show_id) if len(show_id) <= 32 else None
    if show is None or show.enterprise_id != ent.id:
        raise NotFound("no such live code")
    return show


def show_by_token(s: Session, token: str) -> LiveShow:
    """The code a token names, in any state; NotFound if there is none."""
    found = None
    if token and len(token) <= 100:
        found = s.exec(select(LiveShow).where(col(LiveShow.token_hash) == hash_secret(token))).first()
    if found is None:
        raise NotFound("no such live code (亮照码不存在)")
    return found


def usable_show(s: Session, token: str) -> LiveShow:
    """The code a token names while it lasts: NotFound for an unknown token, Gone once it has expired or
    the enterprise's business licence has been revoked."""
    show = show_by_token(s, token)
    ent = s.get(Enterprise, show.enterprise_id)
    if ent is None:
        raise NotFound("no such live code (亮照码不存在)")
    if show.expires_at <= utcnow():
        raise Gone(EXPIRED)
    ended = ended_words(s, ent)
    if ended:
        raise Gone(f"this live code has ended (亮照码已失效): {ended}")
    return show


def remaining_seconds(show: LiveShow, now: datetime | None = None) -> int:
    """Whole seconds until the code expires (0 once it has)."""
    left = (show.expires_at - (now or utcnow())).total_seconds()
    return max(0, int(left))


@dataclass(frozen=True)
class ShownLicences:
    """What a live code shows, and the ids of the licences it shows (their scans are counted)."""

    view: dict[str, Any]
    licence_ids: list[str]


def _all_public_views(s: Session, uscc: str, base_url: str) -> list[dict[str, Any]]:
    """Every public view of the holder's licences, in ``/e/``'s order (current first, the business licence
    first of all), read a page at a time."""
    views: list[dict[str, Any]] = []
    page = PageRequest(limit=MAX_LIMIT)
    while True:
        found = public_views_of_holder(s.connection(), uscc, base_url, page)
        views.extend(found.items)
        if found.next_cursor is None:
            return views
        page = PageRequest(limit=MAX_LIMIT, cursor=found.next_cursor)


def shown(s: Session, token: str, base_url: str) -> ShownLicences:
    """The public view of a live code: the enterprise, the licences chosen (as ``/e/`` shows them),
    when it expires. NotFound for an unknown token; Gone once it has expired or the enterprise has ended."""
    show = usable_show(s, token)
    ent = s.get(Enterprise, show.enterprise_id)
    assert ent is not None
    identifiers = {
        ver.identifier: lic.id for lic, ver, _lt, _d in holder_licences(s, ent.uscc) if lic.id in show.licence_ids
    }
    views = [v for v in _all_public_views(s, ent.uscc, base_url) if v["identifier"] in identifiers]
    view = {
        "state": "active",
        "enterprise": {"name": ent.name, "uscc": ent.uscc},
        "created_at": show.created_at.isoformat(),
        "expires_at": show.expires_at.isoformat(),
        "expires_in_seconds": remaining_seconds(show),
        "licences": views,
    }
    return ShownLicences(view, list(identifiers.values()))
