"""Run requests at the same moment: one thread each, released together by a barrier, so that they
really overlap inside the service (the test client hands each to the app's event loop, and plain
``def`` routes run on its thread pool)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def race(*calls: Callable[[], T]) -> list[T]:
    """Call all of ``calls`` at once, each in its own thread; their results in the same order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, c) for c in calls]
        return [f.result(timeout=300) for f in futures]
