"""``certsvc archive timestamp``: keep stored licences verifiable after their validation data ages
out (PAdES B-LTA).

A licence's signature time-stamp and the CRL in its DSS prove its seal was good when it was made;
a validator can rely on that CRL only until its nextUpdate, and on a time-stamp only while its
TSA certificate is valid. Before either runs out, a document time-stamp by the service's TSA is
added, with the current certificates and CRL in the DSS: it proves the older data existed while it
was still fresh. The PDF as sealed stays as it was (its SHA-256 still identifies the licence); the
time-stamped one is stored beside it and handed out from then on. Run it from cron, e.g. daily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.context import Context
from certsvc.core import clock
from certsvc.db.atomic import changed_rows
from certsvc.db.models import LicenceVersion
from certsvc.db.session import session_scope
from signing.ltv import archive_timestamp, latest_proof
from signing.seal_pdf import run_sync
from verify.trust import as_utc


@dataclass
class ArchiveReport:
    """What one run did, for the CLI to print."""

    checked: int = 0
    stamped: list[str] = field(default_factory=list)  # licence ids (version) time-stamped
    missing: list[str] = field(default_factory=list)  # blobs not found

    def lines(self) -> list[str]:
        return [
            f"licence versions checked: {self.checked}",
            f"document time-stamps added: {len(self.stamped)}",
            f"PDFs missing from the blob store: {len(self.missing)}",
            *(f"  MISSING {m}" for m in self.missing),
        ]


def due(pdf: bytes, deadline: datetime) -> bool:
    """Whether ``pdf`` needs a document time-stamp now: its newest time-stamp's TSA certificate
    expires before ``deadline``, or it has no document time-stamp yet and its newest CRL (or none)
    expires before ``deadline``."""
    proof = latest_proof(pdf)
    stamp_until, crl_until = as_utc(proof.timestamp_until), as_utc(proof.crl_until)
    if stamp_until is None or stamp_until <= deadline:
        return True
    return not proof.archived and (crl_until is None or crl_until <= deadline)


def archive_timestamps(
    ctx: Context, *, before: timedelta, progress: Callable[[int, int], object] | None = None
) -> ArchiveReport:
    """Add a document time-stamp (and fresh validation data) to every stored licence version whose
    time-stamp or validation data expires within ``before``; each is audited. ``progress(done, total)``
    is told as versions are checked (a progress display)."""
    report = ArchiveReport()
    deadline = clock.now() + before
    with Session(ctx.engine) as s:
        versions = s.exec(select(LicenceVersion).order_by(col(LicenceVersion.id))).all()
        rows = [(v.id, v.licence_id, v.version, v.pdf_sha256, v.archive_sha256) for v in versions]
    ltv = ctx.keyring.ltv()
    for vid, licence_id, version, sealed, archived in rows:
        if progress is not None:
            progress(report.checked, len(rows))
        report.checked += 1
        data = ctx.blobs.get(archived or sealed)
        if data is None:
            report.missing.append(archived or sealed)
            continue
        if not due(data, deadline):
            continue
        stamped = run_sync(archive_timestamp(data, ltv))
        sha = ctx.blobs.put(stamped)
        with session_scope(ctx.engine) as s:
            current = col(LicenceVersion.archive_sha256)
            same = current.is_(None) if archived is None else current == archived
            if not changed_rows(
                s, update(LicenceVersion).where(col(LicenceVersion.id) == vid, same).values(archive_sha256=sha)
            ):
                continue  # another run got there first; its PDF stands (ours is an orphan for repair)
            audit.record(
                s,
                "licence.archive_timestamp",
                actor_kind="operator",
                subject_kind="licence",
                subject_id=licence_id,
                details={"version": version, "sha256": sha, "previous": archived or sealed},
            )
        report.stamped.append(f"{licence_id} v{version}")
    if progress is not None:
        progress(report.checked, len(rows))
    return report
