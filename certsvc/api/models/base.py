"""The base of every response model, and the scalar types the answers share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

LicenceStatus = Literal["valid", "expired", "suspended", "revoked", "superseded", "unknown"]
HolderStatus = Literal["valid", "suspended", "revoked"]
GrantState = Literal["active", "revoked", "expired", "exhausted"]
IsoDate = str  # "2026-01-31"
IsoDateTime = str  # "2026-01-31T08:00:00+00:00"


class Out(BaseModel):
    """Keeps any key a service adds that a model does not declare: a model documents, never trims."""

    model_config = ConfigDict(extra="allow")
