"""Verification reports (验证报告) as records: found by their sealed SHA-256, named in answers."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlmodel import Session, select

from certsvc.db.work import VerificationReport


def report_of_sha(s: Session, sha256: str) -> VerificationReport | None:
    """The verification report whose sealed PDF has this SHA-256, if the service made one."""
    return s.exec(select(VerificationReport).where(VerificationReport.pdf_sha256 == sha256)).first()


def report_ref(r: VerificationReport) -> dict[str, Any]:
    """A report as a verification answer names it: what it checked, when, and what it found."""
    return {
        "id": r.id,
        "kind": "report",
        "checked_at": (r.checked_at if r.checked_at.tzinfo else r.checked_at.replace(tzinfo=UTC)).isoformat(),
        "checked_sha256": r.checked_sha256,
        "verdict": r.verdict,
        "source": r.source,
    }
