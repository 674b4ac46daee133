"""Back-fill jobs (``/licence-jobs``): the job, its progress and its results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from certsvc.api.models.base import IsoDateTime, Out
from certsvc.api.models.errors import ErrorDetail


class LicenceJobIn(Out):
    """Up to 100,000 licences to issue in the background (back-filling paper licences). Each item is a
    ``POST /licences`` body, plus optionally the paper licence's ``number`` (kept as the licence
    number) and ``issued_on`` (its original issue date, printed as 发证日期)."""

    items: list[dict[str, Any]] = Field(min_length=1, max_length=100_000)


class LicenceJobCreated(Out):
    """A job accepted: follow ``url`` for its progress."""

    id: str
    url: str
    state: Literal["queued", "running", "done", "failed"]
    total: int


class LicenceJobOut(Out):
    """A job's progress: items issued (``done``), failed, still pending, of ``total``."""

    id: str
    state: Literal["queued", "running", "done", "failed"]
    total: int
    done: int
    failed: int
    pending: int
    error: str | None = Field(description="why the job as a whole failed (items' errors are in the results)")
    created_at: IsoDateTime
    started_at: IsoDateTime | None
    finished_at: IsoDateTime | None
    url: str
    results_url: str


class LicenceJobResult(Out):
    """One item's result, in the order of the items: the licence issued, or the item's error."""

    index: int = Field(description="the item's position in the job, from 0")
    state: Literal["pending", "done", "failed"]
    id: str | None = None
    number: str | None = None
    identifier: str | None = None
    pdf_url: str | None = None
    verify_url: str | None = None
    status_code: int | None = Field(default=None, description="failed: the status the item alone would have had")
    error: ErrorDetail | None = None


class LicenceJobResults(Out):
    """A page of results; pass ``next_cursor`` as ``cursor`` for the next (null: the last page)."""

    items: list[LicenceJobResult]
    next_cursor: str | None
