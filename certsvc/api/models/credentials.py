"""Credentials: an enterprise's staff tokens."""

from __future__ import annotations

from pydantic import Field

from certsvc.api.models.base import IsoDateTime, Out


class TokenOut(Out):
    """An enterprise token as the legal representative sees it (never its secret)."""

    id: int
    name: str
    legal_representative: bool = Field(description="the token from activation: may do everything")
    scopes: list[str]
    state: str = Field(description="active, expired or revoked")
    created_at: IsoDateTime
    expires_at: IsoDateTime | None
    last_used_at: IsoDateTime | None = Field(description="to the minute")
    revoked_at: IsoDateTime | None


class NewTokenOut(TokenOut):
    """A staff token just made, with the token itself: shown only this once, as the service keeps just its hash."""

    token: str = Field(description="shown once: stored only as a hash")


class TokenList(Out):
    """The enterprise's tokens, newest first, one page."""

    items: list[TokenOut]
    next_cursor: str | None
