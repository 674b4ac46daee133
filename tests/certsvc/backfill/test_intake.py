"""Reading a job's items: the streamed JSON body (one item at a time, bounded in MiB) and the CSV of
``certsvc backfill`` (errors name the line and column). No database: run once, on SQLite."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from certsvc.backfill.intake import MAX_DEPTH, read_csv, read_items
from certsvc.errors import Invalid, TooLarge
from tests.certsvc.backfill.test_backfill_cli import HEADER, row

pytestmark = pytest.mark.files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "\nSPJY,x\n", "line 2: 2 columns where the header has 9"),
        ("licence_type,licence_type\n", "line 1, column 2: column 'licence_type' given twice"),
        ("", "line 1: the header is missing"),
        (HEADER + "\n\n", "the file holds no licences"),
        ('licence_type\n"SPJY\n', "line 2: not valid CSV"),
    ],
)
def test_bad_csv_files_are_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(Invalid) as e:
        read_csv(text.splitlines(keepends=True))
    assert e.value.message.startswith(message)


def test_csv_rows_become_items_with_their_field_values_and_lines() -> None:
    items, lines = read_csv([HEADER + "\n", "\n", row("N-1", "2019-01-02") + "\n"])
    assert lines == [3]
    assert '"number":"N-1"' in items[0] and '"fields":{"经营场所":"深圳市南山区南头街1号"' in items[0]


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for k in range(0, len(body), size):
        yield body[k : k + size]


def test_a_streamed_job_body_is_read_item_by_item_and_bounded_in_mib() -> None:
    body = b'{"items": [{"number": "A-1", "fields": {"x": [1, {"y": 2}]}}, {"number": "A-2"}]}'
    items = asyncio.run(read_items(_chunks(body, 7), 1024))
    assert items == ['{"number":"A-1","fields":{"x":[1,{"y":2}]}}', '{"number":"A-2"}']
    with pytest.raises(TooLarge) as e:
        item = b'{"holder_name": "' + b"x" * 50 + b'"},'  # 68 bytes: 2 MiB come before 100,000 items
        asyncio.run(read_items(_chunks(b'{"items": [' + item * 50_000, 65536), 2 * 2**20))
    assert e.value.message == "body: a licence job may be at most 2 MiB; split it into several jobs"


def test_an_item_nested_100000_deep_is_refused_at_once_in_little_memory() -> None:
    depth = 100_000  # 200 KB of body
    body = b'{"items": [{"number": "A-1"}, {"fields": ' + b"[" * depth + b"]" * depth + b"}]}"
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(Invalid) as e:
            asyncio.run(read_items(_chunks(body, 65536), 2**20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.field == "items.1"
    assert e.value.message == f"items.1: nested more than {MAX_DEPTH} levels deep"
    assert peak < 50 * 2**20 and time.monotonic() - started < 5


def test_an_item_nested_to_the_limit_is_read() -> None:
    inner = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)  # with the item itself: MAX_DEPTH levels
    items = asyncio.run(read_items(_chunks(b'{"items": [{"fields": ' + inner + b"}]}", 7), 2**20))
    assert items == ['{"fields":' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"]
    with pytest.raises(Invalid) as e:
        asyncio.run(read_items(_chunks(b'{"items": [{"fields": [' + inner + b"]}]}", 7), 2**20))
    assert e.value.field == "items.0"
