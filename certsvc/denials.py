"""Refused attempts, recorded in the audit log: counted in memory, one row per minute.

A flood of bad keys or dead share links must leave a trace without swamping the audit chain, and
a refusal must cost no write of its own. So each process counts refusals per (denial, client
address, minute) and writes every finished minute as one audit event carrying the count (and, for
attempts on a holder's grants, one access-log event the holder sees). Several processes on one
database each write their own rows; the counts add up. A process that stops writes what it has.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from certsvc import audit
from certsvc.db.models import AccessEvent, utcnow
from certsvc.db.session import session_scope
from certsvc.errors import Denial

MAX_BUCKETS = 10_000
"""Distinct (denial, client, minute) counts held at once; beyond it, refusals of a kind share one."""
OVERFLOW_CLIENT = "*"


@dataclass
class _Count:
    count: int
    first: datetime
    last: datetime


_Key = tuple[Denial, str, datetime]


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


class DenialLog:
    """Refusals counted per (denial, client address, minute) until :meth:`flush` writes them."""

    def __init__(self, max_buckets: int = MAX_BUCKETS) -> None:
        self._pending: dict[_Key, _Count] = {}
        self._lock = threading.Lock()
        self._max = max_buckets

    def add(self, denial: Denial, client: str) -> None:
        """Count one refusal of ``denial`` to ``client``, now."""
        now = utcnow()
        key: _Key = (denial, client, _minute(now))
        with self._lock:
            if key not in self._pending and len(self._pending) >= self._max:
                # a flood from many addresses: keep counting it, but under one key per kind
                key = (Denial(denial.kind, reason="too many distinct refusals to list"), OVERFLOW_CLIENT, key[2])
            c = self._pending.get(key)
            if c is None:
                self._pending[key] = _Count(1, now, now)
            else:
                c.count += 1
                c.last = now

    def pending(self) -> int:
        """How many refusals are counted and not yet written."""
        with self._lock:
            return sum(c.count for c in self._pending.values())

    def flush(self, engine: Engine, *, everything: bool = True) -> int:
        """Write the counted refusals (only finished minutes unless ``everything``); the number written."""
        current = _minute(utcnow())
        with self._lock:
            take = {k: c for k, c in self._pending.items() if everything or k[2] < current}
            for k in take:
                del self._pending[k]
        if not take:
            return 0
        try:
            with session_scope(engine) as s:
                entries = []
                for (d, client, minute), c in sorted(take.items(), key=lambda kv: kv[1].first):
                    details: dict[str, object] = {
                        "client": client,
                        "count": c.count,
                        "minute": _iso(minute),
                        "first": _iso(c.first),
                        "last": _iso(c.last),
                    }
                    for name in ("reason", "licence_id", "grant_id", "holder_uscc"):
                        if getattr(d, name) is not None:
                            details[name] = getattr(d, name)
                    entries.append(
                        audit.Entry(f"denied.{d.kind}", d.actor_kind, d.actor_id, d.subject_kind, d.subject_id, details)
                    )
                    if d.holder_uscc is not None:
                        s.add(
                            AccessEvent(
                                holder_uscc=d.holder_uscc,
                                licence_id=d.licence_id,
                                kind=f"refused_{d.kind.removeprefix('grant_')}"[:24],
                                grant_id=d.grant_id,
                                at=c.first,
                                attempts=c.count,
                            )
                        )
                audit.record_many(s, entries)
        except Exception:
            with self._lock:  # keep them for the next flush
                for k, c in take.items():
                    mine = self._pending.get(k)
                    if mine is None:
                        self._pending[k] = c
                    else:
                        mine.count += c.count
                        mine.first = min(mine.first, c.first)
            raise
        return sum(c.count for c in take.values())
