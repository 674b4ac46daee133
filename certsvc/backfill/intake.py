"""Reading a job's items: the JSON body of ``POST /licence-jobs`` as a stream, and the CSV of
``certsvc backfill``.

The body is parsed incrementally (ijson): one item is built at a time and kept as compact JSON
text, so a 64 MiB body never exists as a whole, nor as a tree of Python objects. The envelope is
checked as it arrives (an object with ``items``, a list of at most :data:`MAX_ITEMS` objects);
what each item says is checked later, item by item, and a bad item is that item's result.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import ijson

from certsvc.errors import Invalid, TooLarge

MAX_ITEMS = 100_000
"""Most items in one job."""

MAX_DEPTH = 32
"""Most levels of nesting inside one item (the item itself is the first); a licence needs three."""

MIB = 1024 * 1024
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")

CSV_FIELDS = (
    "licence_type",
    "holder_uscc",
    "holder_name",
    "holder_kind",
    "valid_from",
    "valid_until",
    "number",
    "issued_on",
    "commitment_id",
)
"""The CSV columns besides ``fields.X`` (a field value of the licence type)."""


def compact(item: dict[str, Any]) -> str:
    """An item as stored: compact JSON text."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


class _Reader:
    """The request body as the file ijson reads asynchronously, counting bytes against the limit."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self._limit = limit
        self._seen = 0
        self._left = b""

    async def read(self, n: int = -1) -> bytes:
        if not self._left:
            async for chunk in self._chunks:
                if chunk:
                    self._seen += len(chunk)
                    if self._seen > self._limit:
                        raise too_large(self._limit)
                    self._left = chunk
                    break
        if n < 0 or n >= len(self._left):
            out, self._left = self._left, b""
        else:
            out, self._left = self._left[:n], self._left[n:]
        return out


def too_large(limit: int) -> TooLarge:
    """The error for a job body over ``limit`` bytes, in the unit the README uses."""
    return TooLarge(f"body: a licence job may be at most {limit // MIB} MiB; split it into several jobs", field="body")


def _shape(message: str, field: str = "body") -> Invalid:
    return Invalid(f"{field}: {message}", field=field)


async def read_items(chunks: AsyncIterator[bytes], limit_bytes: int) -> list[str]:
    """The items of a ``{"items": [...]}`` body, each as compact JSON text; 422 for a body of
    another shape or an item nested more than :data:`MAX_DEPTH` levels deep (naming where), 413
    beyond ``limit_bytes`` or :data:`MAX_ITEMS` items.

    The parser reports bare events (no paths: a path per nesting level would cost memory in the
    square of the depth); where an event stands is known from the nesting level counted here."""
    items: list[str] = []
    builder: ijson.ObjectBuilder | None = None
    seen_items = False
    key: str | None = None  # the last key of the top-level object
    depth = 0  # open objects and lists
    try:
        async for event, value in ijson.basic_parse(_Reader(chunks, limit_bytes), use_float=True):
            if builder is not None:  # inside an item (opened at depth 3)
                if event in _OPEN:
                    depth += 1
                    if depth - 2 > MAX_DEPTH:
                        where = f"items.{len(items)}"
                        raise _shape(f"nested more than {MAX_DEPTH} levels deep", where)
                elif event in _CLOSE:
                    depth -= 1
                builder.event(event, value)
                if depth == 2:
                    items.append(compact(builder.value))
                    builder = None
                continue
            if depth == 0:
                if event != "start_map":
                    raise _shape('must be a JSON object {"items": [...]}')
                depth = 1
            elif depth == 1:
                if event == "map_key":
                    if value != "items":
                        raise _shape(f'{value!r} is not part of a licence job; send {{"items": [...]}}')
                    if seen_items:
                        raise _shape("items: given twice", "items")
                    seen_items, key = True, value
                elif event == "start_array" and key == "items":
                    depth = 2
                elif event == "end_map":
                    depth = 0
                else:
                    raise _shape("must be a list of licences", "items")
            elif event == "end_array":  # depth 2: the list of items
                depth = 1
            else:
                where = f"items.{len(items)}"
                if event != "start_map":
                    raise _shape("must be an object (a POST /licences body)", where)
                if len(items) >= MAX_ITEMS:
                    raise TooLarge(f"items: at most {MAX_ITEMS:,} items in one job", field="items")
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 3
    except ijson.JSONError as e:
        raise _shape(f"not valid JSON ({e})") from None
    if not seen_items:
        raise _shape("required: a list of licences", "items")
    if not items:
        raise _shape("must hold at least one licence", "items")
    return items


def _row_item(header: list[str], row: list[str], line: int) -> dict[str, Any]:
    if len(row) != len(header):
        raise Invalid(f"line {line}: {len(row)} columns where the header has {len(header)}", field=f"line {line}")
    item: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, cell in zip(header, row, strict=True):
        cell = cell.strip()
        if not cell:
            continue
        if name.startswith("fields."):
            fields[name.removeprefix("fields.")] = cell
        else:
            item[name] = cell
    if fields:
        item["fields"] = fields
    return item


def read_csv(lines: Iterable[str]) -> tuple[list[str], list[int]]:
    """The items of a back-fill CSV (a header of :data:`CSV_FIELDS` and ``fields.X`` columns, one
    licence a row), each as compact JSON text; a clear error naming the line and column otherwise.
    Empty cells are left out; rows that are entirely empty are skipped. Also the line of each item."""
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        if not header or header == [""]:
            raise Invalid("line 1: the header is missing (licence_type,holder_uscc,holder_name,fields.…)")
        for col, name in enumerate(header, start=1):
            if name not in CSV_FIELDS and not (name.startswith("fields.") and len(name) > len("fields.")):
                known = ", ".join(CSV_FIELDS)
                raise Invalid(f"line 1, column {col}: unknown column {name!r} (known: {known}, fields.NAME)")
            if header.index(name) != col - 1:
                raise Invalid(f"line 1, column {col}: column {name!r} given twice")
        items, where = [], []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            items.append(compact(_row_item(header, row, reader.line_num)))
            where.append(reader.line_num)
            if len(items) > MAX_ITEMS:
                raise Invalid(f"line {reader.line_num}: at most {MAX_ITEMS:,} licences in one job")
    except csv.Error as e:
        raise Invalid(f"line {reader.line_num}: not valid CSV ({e})") from None
    except UnicodeDecodeError as e:
        raise Invalid(f"line {reader.line_num + 1}: not UTF-8 text ({e.reason})") from None
    if not items:
        raise Invalid("the file holds no licences: a header and at least one row are needed")
    return items, where
