"""Whether the request being served is a ``HEAD``: it runs as a ``GET`` (same checks, same status and
headers) but must leave nothing behind — no scan counted, no access audited or logged, nothing sealed.

The ``HEAD`` middleware sets it for the request; the few places that record a read ask
:func:`head_only`. A refusal is still counted (:mod:`certsvc.denials`): a ``HEAD`` is an attempt too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_HEAD_ONLY: ContextVar[bool] = ContextVar("certsvc_head_only", default=False)


def head_only() -> bool:
    """Whether the current request is a ``HEAD`` (its reads are not recorded)."""
    return _HEAD_ONLY.get()


@contextmanager
def serving_head() -> Iterator[None]:
    """Mark the code run inside as serving a ``HEAD``."""
    token = _HEAD_ONLY.set(True)
    try:
        yield
    finally:
        _HEAD_ONLY.reset(token)
