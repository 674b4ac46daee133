"""Back-fill jobs: submitting one, its progress, its results (one page at a time, or all as CSV or
JSON lines). Only the department that submitted a job sees it (404 for any other)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.api.errors import http_status
from certsvc.backfill.intake import read_items
from certsvc.core.clock import now
from certsvc.db.models import Department, Licence, LicenceVersion
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.db.session import session_scope
from certsvc.db.work import LicenceJob, LicenceJobItem
from certsvc.departments.owned import owned_by
from certsvc.errors import Conflict, NotFound, ServiceError

_INSERT_ROWS = 1000  # items per INSERT statement
_EXPORT_PAGE = 1000  # items read at a time for a download
NUMBER_MAX = 64  # the longest paper number (PaperLicenceRequest.number, licence.number)


def error_record(e: ServiceError) -> dict[str, Any]:
    """An item's error as stored: what the API shows (code, message, field) and its HTTP status."""
    return {"code": e.code, "message": e.message, "field": e.field, "status_code": http_status(e) or 500}


def _number(body: str) -> str | None:
    """The paper number an item asks to keep, as far as it can be one: a longer one is not stored
    (the item fails on its own when the runner checks it, 422 naming ``number``)."""
    value = json.loads(body).get("number")
    if not isinstance(value, str) or not value.strip() or len(value) > NUMBER_MAX:
        return None
    return value.strip()


def submit(engine: Engine, dept: Department, items: list[str], *, via: str = "api") -> LicenceJob:
    """Store a job and its items (compact JSON each) in one transaction, queued for the runner. An
    item repeating an earlier item's ``number`` fails at once (``number`` duplicated in the job)."""
    job = LicenceJob(department_id=dept.id or 0, total=len(items))
    first: dict[str, int] = {}
    at = now()
    with session_scope(engine) as s:
        s.add(job)
        s.flush()
        rows: list[dict[str, Any]] = []
        for seq, body in enumerate(items):
            number = _number(body)
            row: dict[str, Any] = {"job_id": job.id, "seq": seq, "body": body, "number": number, "state": "pending"}
            row.update(lease_until=None, lease_token=None, licence_id=None, error=None, finished_at=None, attempts=0)
            if number is not None and number in first:
                message = f"number: {number} is also the number of item {first[number]} of this job"
                row.update(state="failed", finished_at=at, error=error_record(Conflict(message, field="number")))
            elif number is not None:
                first[number] = seq
            rows.append(row)
            if len(rows) >= _INSERT_ROWS:
                s.execute(insert(LicenceJobItem), rows)
                rows = []
        if rows:
            s.execute(insert(LicenceJobItem), rows)
        details = {"total": len(items), "via": via}
        audit.record(
            s,
            "licence_job.submit",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence_job",
            subject_id=job.id,
            details=details,
        )
        s.expunge(job)
    return job


async def receive(engine: Engine, dept: Department, chunks: AsyncIterator[bytes], limit_bytes: int) -> LicenceJob:
    """``POST /licence-jobs``: read the body's items as they arrive, then store the job (off the event loop)."""
    items = await read_items(chunks, limit_bytes)
    return await asyncio.to_thread(submit, engine, dept, items)


def owned(s: Session, dept: Department, job_id: str) -> LicenceJob:
    """The job if this department submitted it; otherwise 404, never revealing that it exists."""
    return owned_by(s, dept, LicenceJob, job_id, "licence job", "licence_job")


def counts(s: Session, job_id: str) -> dict[str, int]:
    """Items of a job by state."""
    q = (
        select(LicenceJobItem.state, func.count())
        .where(LicenceJobItem.job_id == job_id)
        .group_by(col(LicenceJobItem.state))
    )
    return {state: int(n) for state, n in s.exec(q).all()}


def _d(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def job_view(job: LicenceJob, by_state: dict[str, int], base_url: str) -> dict[str, Any]:
    """A job's progress as its department sees it."""
    return {
        "id": job.id,
        "state": job.state,
        "total": job.total,
        "done": by_state.get("done", 0),
        "failed": by_state.get("failed", 0),
        "pending": by_state.get("pending", 0),
        "error": job.error,
        "created_at": _d(job.created_at),
        "started_at": _d(job.started_at),
        "finished_at": _d(job.finished_at),
        "url": f"{base_url}/api/v1/licence-jobs/{job.id}",
        "results_url": f"{base_url}/api/v1/licence-jobs/{job.id}/results",
    }


def status(engine: Engine, dept: Department, job_id: str, base_url: str) -> dict[str, Any]:
    """``GET /licence-jobs/{id}``."""
    with Session(engine) as s:
        job = owned(s, dept, job_id)
        return job_view(job, counts(s, job.id), base_url)


# --- results ----------------------------------------------------------------------------------


RESULTS = Keyset("job-results", (Key(col(LicenceJobItem.seq), int),))


@dataclass(frozen=True)
class Result:
    """One item's result."""

    index: int
    state: str
    licence_id: str | None
    number: str | None
    identifier: str | None
    qr_payload: str | None
    error: dict[str, Any] | None

    def view(self, base_url: str) -> dict[str, Any]:
        """As the API shows it: the licence issued, or the error, or ``pending``."""
        out: dict[str, Any] = {"index": self.index, "state": self.state}
        if self.licence_id is not None:
            out.update(
                id=self.licence_id,
                number=self.number,
                identifier=self.identifier,
                pdf_url=f"{base_url}/api/v1/licences/{self.licence_id}/pdf",
                verify_url=f"{base_url}/v/{self.qr_payload}",
            )
        if self.error is not None:
            out["error"] = {k: v for k, v in self.error.items() if k != "status_code" and v is not None}
            out["status_code"] = self.error.get("status_code")
        return out


def _results_page(s: Session, job_id: str, page: PageRequest) -> Page[Result]:
    q = (
        select(LicenceJobItem, Licence.number, LicenceVersion.identifier, LicenceVersion.qr_payload)
        .join(Licence, col(Licence.id) == col(LicenceJobItem.licence_id), isouter=True)
        .join(
            LicenceVersion,
            (col(LicenceVersion.licence_id) == col(Licence.id)) & (col(LicenceVersion.version) == 1),
            isouter=True,
        )
        .where(LicenceJobItem.job_id == job_id)
    )
    rows = s.exec(page_query(q, RESULTS, page)).all()  # type: ignore[call-overload]
    found: Page[Any] = page_of(rows, RESULTS, page, lambda r: (r[0].seq,))
    return Page(
        [
            Result(item.seq, item.state, item.licence_id, num, ident, qr, item.error)
            for item, num, ident, qr in found.items
        ],
        found.next_cursor,
    )


def results(engine: Engine, dept: Department, job_id: str, base_url: str, page: PageRequest) -> dict[str, Any]:
    """``GET /licence-jobs/{id}/results``: ``{"items", "next_cursor"}``, in the order of the job's items."""
    with Session(engine) as s:
        job = owned(s, dept, job_id)
        return _results_page(s, job.id, page).answer(lambda r: r.view(base_url))


EXPORT_COLUMNS = (
    "index",
    "state",
    "status_code",
    "id",
    "number",
    "identifier",
    "verify_url",
    "error_code",
    "error_field",
    "error_message",
)


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _flat(view: dict[str, Any]) -> list[Any]:
    err = view.get("error") or {}
    row = {**view, "error_code": err.get("code"), "error_field": err.get("field"), "error_message": err.get("message")}
    return [_cell(row.get(k)) for k in EXPORT_COLUMNS]


def export(engine: Engine, dept: Department, job_id: str, base_url: str, fmt: str) -> Iterator[bytes]:
    """Every result of the job as CSV (with a header; UTF-8 with BOM, for spreadsheets) or JSON lines,
    produced a page at a time. The download is audited; the job is checked before the first byte."""
    with session_scope(engine) as s:
        job = owned(s, dept, job_id)
        audit.record_access(
            s,
            "licence_job.results_download",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence_job",
            subject_id=job.id,
            details={"format": fmt},
        )

    def rows() -> Iterator[bytes]:
        if fmt == "csv":
            yield "\ufeff".encode()
            yield _csv_line(EXPORT_COLUMNS)
        page = PageRequest(limit=_EXPORT_PAGE)
        while True:
            with Session(engine) as s:
                found = _results_page(s, job_id, page)
            for r in found.items:
                view = r.view(base_url)
                if fmt == "csv":
                    yield _csv_line(_flat(view))
                else:
                    yield (json.dumps(view, ensure_ascii=False) + "\n").encode()
            if found.next_cursor is None:
                return
            page = PageRequest(limit=_EXPORT_PAGE, cursor=found.next_cursor)

    return rows()


def _csv_line(values: Any) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(values)
    return buf.getvalue().encode()


def failures(engine: Engine, job_id: str, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """The first ``limit`` failed items of a job: (index, error)."""
    q = (
        select(LicenceJobItem.seq, LicenceJobItem.error)
        .where(LicenceJobItem.job_id == job_id, LicenceJobItem.state == "failed")
        .order_by(col(LicenceJobItem.seq))
        .limit(limit)
    )
    with Session(engine) as s:
        return [(seq, dict(error or {})) for seq, error in s.exec(q).all()]


def progress(engine: Engine, job_id: str) -> tuple[LicenceJob, dict[str, int]]:
    """A job and its items by state (for the CLI)."""
    with Session(engine) as s:
        job = s.get(LicenceJob, job_id)
        if job is None:
            raise NotFound("no such licence job")
        s.expunge(job)
        return job, counts(s, job_id)
