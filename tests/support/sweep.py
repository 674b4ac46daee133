"""Running ``certsvc sweep`` in a subprocess against the running test service, and reading the audit log."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlmodel import Session, col, func, select

from certsvc.db.models import AuditEvent


def run_sweep(at: str) -> subprocess.CompletedProcess:
    """``certsvc sweep --at AT`` with the ``CERTSVC_*`` environment of the running test service."""
    r = subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "sweep", "--at", at],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    return r


def audit_count(engine, action: str, subject_id: str) -> int:
    """How many audit events ``action`` name ``subject_id``."""
    with Session(engine) as s:
        return s.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(col(AuditEvent.action) == action, col(AuditEvent.subject_id) == subject_id)
        ).one()
