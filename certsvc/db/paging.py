"""Keyset pagination: one cursor for every list of the API.

A list is read in a stable order of columns that together are unique (e.g. ``created_at, id``).
A page is the first ``limit`` rows after the last row of the previous page in that order, found by
a ``WHERE`` on the order's columns (not ``OFFSET``): rows added between pages cause no duplicates and
no gaps. The cursor carries the last row's key, base64url-encoded JSON, tagged with the list it
belongs to; anything else given as a cursor is refused (422 naming ``cursor``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Select, and_, bindparam, or_, tuple_
from sqlalchemy.sql.elements import ColumnElement

from certsvc.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR = 512  # characters: a cursor holds a few keys, never more

_BAD = "cursor: not a cursor of this list; pass next_cursor from the previous page as it was given"


@dataclass(frozen=True)
class PageRequest:
    """What the caller asked for: at most ``limit`` items after ``cursor`` (None: the first page)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass(frozen=True)
class Key:
    """One column (or expression) of a list's order, its Python type, and whether it runs downwards."""

    column: Any  # a column or a labelled expression
    kind: type
    descending: bool = False


@dataclass(frozen=True)
class Keyset:
    """A list's stable order: ``keys`` together unique; ``tag`` names the list in its cursors."""

    tag: str
    keys: tuple[Key, ...]

    def order_by(self) -> list[ColumnElement[Any]]:
        """The ``ORDER BY`` of the list."""
        return [k.column.desc() if k.descending else k.column.asc() for k in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after the row whose key is ``values``, in this order (lexicographic)."""
        pairs = list(zip(self.keys, values, strict=True))
        if len({k.descending for k in self.keys}) == 1:
            # one direction: a row-value comparison, which an index on the columns answers as a range
            row = tuple_(*(k.column for k in self.keys))
            bound = tuple_(*(bindparam(None, v, type_=k.column.type) for k, v in pairs))
            return row < bound if self.keys[0].descending else row > bound
        clause: ColumnElement[bool] | None = None
        for k, v in reversed(pairs):
            beyond = k.column < v if k.descending else k.column > v
            clause = beyond if clause is None else or_(beyond, and_(k.column == v, clause))
        assert clause is not None
        first, v0 = pairs[0]
        # the leading column's bound on its own, so that an index on it is used as a range
        lead = first.column <= v0 if first.descending else first.column >= v0
        return and_(lead, clause)


def encode_cursor(tag: str, values: Sequence[Any]) -> str:
    """The cursor after a row whose key is ``values``."""
    plain = [v.isoformat() if isinstance(v, date | datetime) else v for v in values]
    raw = json.dumps([tag, *plain], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _int_limit(column: Any) -> int:
    """The largest value the column holds: a BIGINT's, or (INTEGER) a 32-bit one's."""
    return 2**63 - 1 if isinstance(getattr(column, "type", None), BigInteger) else 2**31 - 1


def _value(key: Key, v: Any) -> Any:
    """A key value from a cursor, only if a row of ours could have had it (a database takes it as a bound)."""
    kind = key.kind
    if kind is datetime and isinstance(v, str):
        moment = datetime.fromisoformat(v)
        if moment.tzinfo is None:
            raise ValueError("a moment without its offset")
        moment.astimezone(UTC)  # OverflowError at the ends of the calendar
        return moment
    if kind is date and isinstance(v, str):
        return date.fromisoformat(v)
    if kind is int and isinstance(v, int) and not isinstance(v, bool) and abs(v) <= _int_limit(key.column):
        return v
    if kind is str and isinstance(v, str) and len(v) <= 200 and "\x00" not in v:
        v.encode("utf-8")  # UnicodeEncodeError for a lone surrogate
        return v
    raise ValueError(v)


def decode_cursor(keyset: Keyset, cursor: str) -> list[Any]:
    """The key a cursor of this list carries; :class:`Invalid` (``cursor``) for anything else."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, list) or len(data) != len(keyset.keys) + 1 or data[0] != keyset.tag:
            raise ValueError("not this list")
        return [_value(k, v) for k, v in zip(keyset.keys, data[1:], strict=True)]
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError) as e:
        raise Invalid(_BAD, field="cursor") from e


def page_query(stmt: Select[Any], keyset: Keyset, page: PageRequest) -> Select[Any]:
    """``stmt`` ordered by the keyset, after the cursor, one row more than the page (to tell if there is more)."""
    if page.cursor:
        stmt = stmt.where(keyset.after(decode_cursor(keyset, page.cursor)))
    return stmt.order_by(*keyset.order_by()).limit(page.limit + 1)


def page_of(rows: Sequence[T], keyset: Keyset, page: PageRequest, key: Callable[[T], Sequence[Any]]) -> Page[T]:
    """The page out of the rows :func:`page_query` read; ``key`` gives a row's values of the keyset's columns."""
    items = list(rows[: page.limit])
    more = len(rows) > page.limit and bool(items)
    return Page(items, encode_cursor(keyset.tag, key(items[-1])) if more else None)


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None

    def answer(self, view: Callable[[T], Any], **extra: Any) -> dict[str, Any]:
        """``{"items": [...], "next_cursor"}`` with each item shaped by ``view``, and any ``extra`` keys."""
        return {**extra, "items": [view(x) for x in self.items], "next_cursor": self.next_cursor}
