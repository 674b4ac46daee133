"""What the enterprise portal shows: each page's records, read (or written) in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from certsvc.db.models import Enterprise, Grant
from certsvc.enterprises import accounts
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
    return Holdings(holder_view(s, ent.uscc, base_url))


@dataclass(frozen=True)
class GrantsOverview:
    """The grants page's records: the licences a grant may name, and the newest grants."""

    holdings: Holdings
    grants: list[Grant]


def grants_overview(s: Session, ent: Enterprise, base_url: str, limit: int) -> GrantsOverview:
    """The licences a grant may name, and the newest ``limit`` grants."""
    return GrantsOverview(holdings(s, ent, base_url), sharing.grants_of(s, ent, limit))


@dataclass(frozen=True)
class CreatedGrant:
    """A grant just created (with its one-time token) and the licences, to show what it shares."""

    new: sharing.NewGrant
    holdings: Holdings


def create_grant(s: Session, ent: Enterprise, body: GrantIn, base_url: str) -> CreatedGrant:
    """Create a grant from the portal's form, and read the licences its page shows."""
    new = sharing.create_grant(s, ent, **body.model_dump())
    return CreatedGrant(new, holdings(s, ent, base_url))


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
