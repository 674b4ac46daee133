"""The repair pass after a crash: issuance writes blob → record+audit (one transaction), so a
crash can leave a blob without a record (removed here, never served), but never a record
without its blob unless the blob store itself lost data (reported here)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from certsvc import audit
from certsvc.blobstore import FileBlobStore
from certsvc.context import Context
from certsvc.db.models import LicenceVersion, Receipt
from certsvc.db.session import session_scope
from certsvc.db.work import VerificationReport


@dataclass
class RepairReport:
    """What a repair found and did, for the operator and for the exit code."""

    blobs: int = 0
    records: int = 0
    orphans_removed: list[str] = field(default_factory=list)
    orphans_kept_in_flight: int = 0
    temp_files_removed: int = 0
    missing_blobs: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.missing_blobs

    def summary(self) -> str:
        lines = [
            f"blobs: {self.blobs}, records: {self.records}",
            f"orphan blobs removed: {len(self.orphans_removed)}"
            + (
                f" ({self.orphans_kept_in_flight} younger ones left: may be in flight)"
                if self.orphans_kept_in_flight
                else ""
            ),
            f"unfinished temp files removed: {self.temp_files_removed}",
            f"records whose PDF is missing: {len(self.missing_blobs)}",
        ]
        lines += [f"  MISSING {sha}" for sha in self.missing_blobs]
        return "\n".join(lines)


def repair(ctx: Context, *, grace_s: float = 600.0) -> RepairReport:
    """Remove orphaned blobs and temp files and report records whose blob is missing, after a crash."""
    report = RepairReport()
    with Session(ctx.engine) as s:
        referenced = (
            set(s.exec(select(LicenceVersion.pdf_sha256)).all())
            | {a for a in s.exec(select(LicenceVersion.archive_sha256)).all() if a}
            | set(s.exec(select(Receipt.pdf_sha256)).all())
            | {r for r in s.exec(select(VerificationReport.pdf_sha256)).all() if r}
        )
    report.records = len(referenced)
    stored = set(ctx.blobs.keys())
    report.blobs = len(stored)
    now = time.time()
    store = ctx.blobs
    for key in sorted(stored - referenced):
        if isinstance(store, FileBlobStore):
            age = now - store._path(key).stat().st_mtime
            if age < grace_s:
                report.orphans_kept_in_flight += 1
                continue
        store.delete(key)
        report.orphans_removed.append(key)
    if isinstance(store, FileBlobStore) and store.root.exists():
        for tmp in Path(store.root).glob("*/*/.*.tmp"):
            if now - tmp.stat().st_mtime >= grace_s:
                os.unlink(tmp)
                report.temp_files_removed += 1
    report.missing_blobs = sorted(referenced - stored)
    with session_scope(ctx.engine) as s:
        audit.record(
            s,
            "repair",
            actor_kind="operator",
            details={
                "orphans_removed": len(report.orphans_removed),
                "missing_blobs": report.missing_blobs[:100],
                "temp_files_removed": report.temp_files_removed,
            },
        )
    return report
