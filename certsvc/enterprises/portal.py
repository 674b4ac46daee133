"""What the enterprise portal shows: each page's records, read (or written) in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from certsvc.core.config import Settings
from certsvc.db.models import Enterprise, Grant, LiveShow
from certsvc.enterprises import accounts, showing
from certsvc.enterprises.holders import holder_view
from certsvc.schemas import GrantIn
from certsvc.sharing import grants as sharing


@dataclass(frozen=True)
class Holdings:
    """The enterprise's licences (holder view, newest first) and the same indexed by id."""

    items: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {i["id"]: i for i in self.items})


def holdings(s: Session, ent: Enterprise, base_url: str) -> Holdings:
    """The enterprise's licences, as its portal lists them."""
    return Holdings(holder_view(s, ent.uscc, base_url, own=True))


@dataclass(frozen=True)
class GrantsOverview:
    """The grants page's records: the licences a grant may name, and the newest grants."""

    holdings: Holdings
    grants: list[Grant]


def grants_overview(s: Session, ent: Enterprise, base_url: str, limit: int) -> GrantsOverview:
    """The licences a grant may name, and the newest ``limit`` grants."""
    return GrantsOverview(holdings(s, ent, base_url), sharing.grants_of(s, ent, limit))


def create_grant(s: Session, ent: Enterprise, body: GrantIn, settings: Settings) -> sharing.NewGrant:
    """Create a grant from the portal's form."""
    return sharing.create_grant(s, ent, settings=settings, **body.model_dump())


@dataclass(frozen=True)
class GrantDetail:
    """One grant as its page shows it: the grant, the licences, and its share URL while it can be used
    (None once it has ended, or when its link was not kept or cannot be read back)."""

    grant: Grant
    holdings: Holdings
    share_url: str | None


def grant_detail(s: Session, ent: Enterprise, grant_id: str, settings: Settings) -> GrantDetail:
    """One of the enterprise's grants, with its licences and (while active) its share URL; NotFound if not its own."""
    g = sharing.own_grant(s, ent, grant_id)
    token = sharing.share_token(settings, g) if sharing.grant_state(g) == "active" else None
    url = f"{settings.public_base_url}/s/{token}" if token else None
    return GrantDetail(g, holdings(s, ent, settings.public_base_url), url)


@dataclass(frozen=True)
class AccessLog:
    """One page of the access log, with the licences and the grants its events name, by id."""

    log: dict[str, Any]
    holdings: Holdings
    grants: dict[str, Grant]


def access_log(s: Session, ent: Enterprise, base_url: str, *, page: int, per_page: int) -> AccessLog:
    """One page of the access log, with the licences and the grants its events name."""
    log = accounts.access_log(s, ent, page=page, per_page=per_page)
    held = holdings(s, ent, base_url)
    grant_ids = {e["grant_id"] for e in log["items"] if e["grant_id"]}
    return AccessLog(log, held, sharing.grants_named(s, ent, grant_ids))


@dataclass(frozen=True)
class ShowDetail:
    """A live code of the enterprise, as its portal page shows it: the code, the licences it shows,
    seconds left (0 once expired)."""

    show: LiveShow
    licences: list[dict[str, Any]]
    seconds_left: int


def show_detail(s: Session, ent: Enterprise, show_id: str, base_url: str) -> ShowDetail:
    """One of the enterprise's live codes with the licences it shows; NotFound if not its own."""
    show = showing.own_show(s, ent, show_id)
    held = holdings(s, ent, base_url)
    shown = [held.by_id[i] for i in show.licence_ids if i in held.by_id]
    shown.sort(key=lambda v: v["licence_type"] != "YYZZ")  # the business licence first, as the scanner sees it
    return ShowDetail(show, shown, showing.remaining_seconds(show))


def show_qr_url(s: Session, ent: Enterprise, show_id: str, settings: Settings) -> str:
    """The URL one of the enterprise's live codes opens, while it lasts (Gone after, NotFound if not its own)."""
    show = showing.own_show(s, ent, show_id)
    token = showing.show_token(settings, show)
    showing.usable_show(s, token)
    return f"{settings.public_base_url}/l/{token}"
