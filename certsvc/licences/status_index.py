"""Status-list indexes that reveal neither issuance order nor volume (the Token Status List's
privacy advice: random indexes, and a list larger than the number of tokens in it).

A counter hands out slots 0, 1, 2, … (``UPDATE … RETURNING``: unique across processes, one
statement for a whole batch). Slot ``n`` lies in block ``n // BLOCK``; inside the block, a keyed
permutation (a balanced Feistel network over 20 bits, keyed BLAKE2b as its round function) moves it
to a position that looks random to anyone without the secret. A permutation never maps two slots
to one position, so indexes stay unique without a look-up or a retry. The published list always
covers whole blocks of 2^20 indexes, so its length says only "fewer than a million per block".

The secret and ``base`` are stored once, by migration 0006, in ``status_index_scheme``; ``base``
lies above every index handed out before (those came from a plain counter and keep working).
No library is used for the permutation: ``cryptography`` has no format-preserving encryption, and
the one FF3-1 package implements a mode NIST has withdrawn; ten lines of Feistel rounds suffice
for hiding an order.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from certsvc.db.counters import next_value

BLOCK_BITS = 20
BLOCK = 1 << BLOCK_BITS
ROUNDS = 6
SLOT_COUNTER = "status_slot"
_HALF = BLOCK_BITS // 2
_MASK = (1 << _HALF) - 1
_SCHEME = text("SELECT secret, base FROM status_index_scheme WHERE id = 1")
_SLOTS = text("SELECT value FROM counter WHERE name = :n")


@dataclass(frozen=True)
class IndexScheme:
    """The secret that shuffles slots, and the first index it may use."""

    secret: bytes
    base: int

    def index(self, slot: int) -> int:
        """The status-list index of ``slot``."""
        block, offset = divmod(slot, BLOCK)
        return self.base + block * BLOCK + self._permute(block, offset)

    def _permute(self, block: int, x: int) -> int:
        left, right = x >> _HALF, x & _MASK
        for r in range(ROUNDS):
            digest = hashlib.blake2b(struct.pack(">QBI", block, r, right), digest_size=4, key=self.secret).digest()
            left, right = right, left ^ (int.from_bytes(digest, "big") & _MASK)
        return (left << _HALF) | right

    def entries(self, slots_used: int) -> int:
        """How many indexes the published list covers: whole blocks, at least one."""
        blocks = max(1, -(-slots_used // BLOCK))
        return self.base + blocks * BLOCK


def scheme(conn: Session | Connection) -> IndexScheme:
    """The stored scheme (read every time: it is one small row, and a cache could outlive a
    database recreated under the same URL)."""
    secret, base = conn.execute(_SCHEME).one()
    return IndexScheme(bytes.fromhex(secret), int(base))


def allocate(conn: Session | Connection, count: int = 1) -> list[int]:
    """Reserve ``count`` status-list indexes, unique across processes, in the caller's transaction."""
    first_slot = next_value(conn, SLOT_COUNTER, count) - 1
    sch = scheme(conn)
    return [sch.index(first_slot + k) for k in range(count)]


def list_entries(conn: Session | Connection) -> int:
    """How many indexes the published status list must cover now."""
    used = conn.execute(_SLOTS, {"n": SLOT_COUNTER}).scalar() or 0
    return scheme(conn).entries(int(used))
