"""Tamper-evident audit: `certsvc audit verify` names the first event changed, removed or inserted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, select

from certsvc.audit import GENESIS, checkpoint, event_hash
from certsvc.db.models import AuditEvent, utcnow
from certsvc.db.session import session_scope
from tests.support.standalone import Standalone, standalone_service


@pytest.fixture
def svc(tmp_path) -> Iterator[Standalone]:
    with standalone_service(tmp_path) as s:
        for _ in range(3):
            s.issue()
        yield s


def audit_verify(svc: Standalone) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "audit", "verify"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _ids(svc: Standalone) -> list[int]:
    with Session(svc.ctx.engine) as s:
        return [e.id for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_intact_chain_verifies(svc) -> None:
    r = audit_verify(svc)
    assert r.returncode == 0, r.stderr
    assert "intact" in r.stdout


def test_changed_event_is_named(svc) -> None:
    target = _ids(svc)[3]
    with session_scope(svc.ctx.engine) as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == target).values(details={"number": "forged"}))
    r = audit_verify(svc)
    assert r.returncode == 1
    assert f"event {target}" in r.stderr and "changed" in r.stderr


def test_removed_event_is_named(svc) -> None:
    ids = _ids(svc)
    with session_scope(svc.ctx.engine) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    r = audit_verify(svc)
    assert r.returncode == 1
    assert f"event {ids[3]}" in r.stderr and "removed" in r.stderr


def test_inserted_event_is_named(svc) -> None:
    ids = _ids(svc)
    with session_scope(svc.ctx.engine) as s:
        prev = s.get(AuditEvent, ids[1])
        ev = AuditEvent(
            id=ids[-1] + 1,
            at=utcnow(),
            actor_kind="operator",
            action="licence.revoke",
            details={"forged": True},
            prev_hash=prev.hash if prev else GENESIS,
            hash="",
        )
        ev.hash = event_hash(ev)
        s.add(ev)
    # The inserted row lands at the end with a hash that claims an old predecessor.
    r = audit_verify(svc)
    assert r.returncode == 1
    assert "event" in r.stderr and "BROKEN" in r.stderr


def test_rewritten_tail_is_caught_by_the_signed_head(svc) -> None:
    """Deleting the newest events leaves a consistent chain; the signed head still catches it."""
    with session_scope(svc.ctx.engine) as s:
        cp = checkpoint(s, svc.ctx.keyring)
    assert cp is not None
    with session_scope(svc.ctx.engine) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == cp.event_id))
    r = audit_verify(svc)
    assert r.returncode == 1
    assert f"event {cp.event_id}" in r.stderr and "removed" in r.stderr
