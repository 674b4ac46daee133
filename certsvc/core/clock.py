"""The service's clock, and dates as people read them: China Standard Time.

Every reading of "now" goes through :func:`now` (stored times, as aware UTC) or :func:`today`
(the date in China), so that a date a person reads is never the UTC date, and so that the clock
can be set, e.g. to a moment late in the UTC day, with :func:`frozen`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    """Now, as an aware UTC timestamp, from the service's clock."""
    return _source().astimezone(UTC)


def today() -> date:
    """Today in China Standard Time: validity dates and daily counts follow the local calendar, not UTC."""
    return now().astimezone(CST).date()


EARLIEST_YEAR, LATEST_YEAR = 2000, 2199
"""The years a moment asked about (``?at=``, ``--at``) may fall in: every moment in them converts
to UTC and back, and the service holds no history outside them."""


def moment_in_range(at: datetime) -> datetime:
    """``at`` as an aware moment (no offset: China time), or :class:`ValueError` saying the range when
    it falls outside the years :data:`EARLIEST_YEAR`–:data:`LATEST_YEAR`."""
    if not EARLIEST_YEAR <= at.year <= LATEST_YEAR:  # checked before any offset moves it past year 1 or 9999
        raise ValueError(
            f"a moment in the years {EARLIEST_YEAR}–{LATEST_YEAR} (时刻须在 {EARLIEST_YEAR}—{LATEST_YEAR} 年之间)"
        )
    return at if at.tzinfo is not None else at.replace(tzinfo=CST)


def local_date(moment: datetime | None) -> str | None:
    """The date in China of a stored moment (a naive one is UTC), as ``YYYY-MM-DD``: what a person reads."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CST).date().isoformat()


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Run with the clock stopped at ``moment`` (aware), then restore it: for the operator's
    what-if runs and for tests of the calendar's edges."""
    global _source
    saved = _source
    _source = lambda: moment  # noqa: E731
    try:
        yield
    finally:
        _source = saved
