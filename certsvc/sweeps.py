"""Time-driven changes: a registry of sweeps, run on demand (``certsvc sweep``) and by the server's scheduler.

A sweep is ``(session, at) -> int``: it changes what is due as of ``at`` in the session's
transaction and answers how many items it changed. Each change is a compare-and-set on the item's
state with its audit event in the same transaction, so that an item changes (and is audited)
exactly once however many processes sweep. On PostgreSQL each sweep also runs under a transaction
advisory lock: one process sweeps it at a time, the others skip that round.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from certsvc.db.session import session_scope
from certsvc.licences.expiry import sweep_licence_expiry
from certsvc.receipts.materials import sweep_receipt_materials
from certsvc.reform.commitments import sweep_commitments
from certsvc.verification.reports import sweep_unsealed_checks

log = logging.getLogger(__name__)

Sweep = Callable[[Session, datetime], int]

SWEEPS: dict[str, Sweep] = {
    "receipt_materials": sweep_receipt_materials,  # 容缺: materials past their due date → receipt overdue
    "licence_expiry": sweep_licence_expiry,  # licences past valid_until → licence.expire recorded
    "commitments": sweep_commitments,  # 告知承诺 past its due date → overdue, suspended where the type says
    "verification_checks": sweep_unsealed_checks,  # /verify checks whose report link expired unsealed → removed
}
_MAX_ROUNDS = 100  # a sweep changes at most a batch per transaction; it runs again while it finds work


def _lock_key(name: str) -> int:
    return zlib.crc32(f"certsvc-sweep:{name}".encode())


def _take_turn(s: Session, name: str) -> bool:
    """On PostgreSQL: this transaction's advisory lock for sweep ``name``, or False if another process has it."""
    if s.get_bind().dialect.name != "postgresql":
        return True  # SQLite: writers are serialised by the database lock
    return bool(s.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key(name)}).scalar())


def run_sweep(engine: Engine, name: str, at: datetime) -> int:
    """Run sweep ``name`` as of ``at`` until it finds nothing more to change; the number of items it changed."""
    sweep = SWEEPS[name]
    total = 0
    for _ in range(_MAX_ROUNDS):
        with session_scope(engine) as s:
            if not _take_turn(s, name):
                return total
            changed = sweep(s, at)
        total += changed
        if not changed:
            break
    return total


def run_sweeps(
    engine: Engine, at: datetime, on_sweep: Callable[[str, int, int], object] | None = None
) -> dict[str, int]:
    """Every registered sweep as of ``at``: how many items each changed. A sweep that fails (a
    conflict with a concurrent change, the database gone for a moment) is logged and tried again
    next round; it does not keep the others from running. ``on_sweep(name, index, count)`` is told
    before each sweep (a progress display)."""
    done: dict[str, int] = {}
    for i, name in enumerate(SWEEPS):
        if on_sweep is not None:
            on_sweep(name, i, len(SWEEPS))
        try:
            done[name] = run_sweep(engine, name, at)
        except Exception:
            log.exception("sweep %s failed; it runs again next round", name)
    return done
