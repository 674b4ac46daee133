"""Status-list indexes: a keyed permutation of a counter, unique without a look-up, shuffled, and
published in whole blocks (the Token Status List's privacy advice)."""

from __future__ import annotations

import os
import time

import pytest

from certsvc.licences.status_index import BLOCK, IndexScheme

SCHEME = IndexScheme(os.urandom(32), base=1001)


def test_indexes_are_unique_and_inside_their_block() -> None:
    slots = range(20_000)
    indexes = [SCHEME.index(n) for n in slots]
    assert len(set(indexes)) == len(indexes)
    assert all(SCHEME.base <= i < SCHEME.base + BLOCK for i in indexes)
    second = [SCHEME.index(BLOCK + n) for n in range(1000)]
    assert all(SCHEME.base + BLOCK <= i < SCHEME.base + 2 * BLOCK for i in second)


def test_indexes_do_not_follow_issuance_order() -> None:
    indexes = [SCHEME.index(n) for n in range(1000)]
    ascending = sum(a < b for a, b in zip(indexes, indexes[1:], strict=False))
    assert 400 < ascending < 600  # about half the neighbours ascend, as for random positions
    other = IndexScheme(os.urandom(32), 1001)  # another secret, another order
    assert [other.index(n) for n in range(100)] != indexes[:100]


def test_the_list_covers_whole_blocks() -> None:
    assert SCHEME.entries(0) == SCHEME.entries(1) == SCHEME.entries(BLOCK) == 1001 + BLOCK
    assert SCHEME.entries(BLOCK + 1) == 1001 + 2 * BLOCK


def test_allocation_is_cheap() -> None:
    start = time.perf_counter()
    for n in range(10_000):
        SCHEME.index(n)
    assert (time.perf_counter() - start) / 10_000 < 100e-6  # per licence; sealing one takes milliseconds


@pytest.mark.slow
def test_a_whole_block_is_a_permutation() -> None:
    assert sorted(SCHEME.index(n) for n in range(BLOCK)) == list(range(SCHEME.base, SCHEME.base + BLOCK))
