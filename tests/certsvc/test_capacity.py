"""Admission to the analysis workers, without workers: jobs here are threads waiting on an event."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from certsvc.capacity import Caller, Capacity, RateLimit
from certsvc.core.config import Settings
from certsvc.errors import TooManyRequests, Unavailable


@pytest.fixture
def capacity(tmp_path: Path) -> Iterator[Capacity]:
    settings = Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        public_base_url="http://testserver",
        blob_url=f"file://{tmp_path}",
        key_backend="file",
        key_passphrase="x",
        key_passphrase_file=tmp_path / "passphrase",
        verify_workers=1,
        reserved_workers=1,
        uploads_per_client=1,
        upload_queue=1,
        upload_wait_s=30,
    )
    cap = Capacity(settings)
    yield cap
    cap.close()


async def _started(capacity: Capacity, caller: Caller, release: threading.Event) -> asyncio.Task:
    before = sum(capacity.snapshot().values())
    task = asyncio.create_task(capacity.run(caller, release.wait, 30))
    for _ in range(1000):  # until it runs or waits
        await asyncio.sleep(0.01)
        if sum(capacity.snapshot().values()) > before:
            break
    return task


def test_anonymous_uploads_leave_the_reserved_worker_to_authenticated_callers(capacity: Capacity) -> None:
    async def scenario() -> None:
        release = threading.Event()
        first = await _started(capacity, Caller("198.51.100.1"), release)
        second = await _started(capacity, Caller("198.51.100.2"), release)
        assert capacity.snapshot()["waiting_anonymous"] == 1  # the second anonymous upload waits...
        assert await capacity.run(Caller("dept", authenticated=True), sum, (1, 2)) == 3  # ...a key does not
        release.set()
        assert await first and await second

    asyncio.run(scenario())


def test_a_full_queue_is_503_with_retry_after(capacity: Capacity) -> None:
    async def scenario() -> None:
        release = threading.Event()
        running = await _started(capacity, Caller("198.51.100.1"), release)
        waiting = await _started(capacity, Caller("198.51.100.2"), release)
        with pytest.raises(Unavailable) as e:
            await capacity.run(Caller("198.51.100.3"), sum, (1,))
        assert e.value.retry_after and e.value.retry_after >= 1
        release.set()
        await running
        await waiting

    asyncio.run(scenario())


def test_a_second_upload_from_one_address_is_429_while_the_first_runs(capacity: Capacity) -> None:
    async def scenario() -> None:
        release = threading.Event()
        running = await _started(capacity, Caller("198.51.100.1"), release)
        with pytest.raises(TooManyRequests) as e:
            await capacity.run(Caller("198.51.100.1"), sum, (1,))
        assert e.value.retry_after and e.value.retry_after >= 1
        release.set()
        await running
        assert await capacity.run(Caller("198.51.100.1"), sum, (1, 1)) == 2  # and again once it is done

    asyncio.run(scenario())


def test_rate_limit_refills_over_time() -> None:
    limit = RateLimit(per_minute=3)
    assert [limit.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.take("a", 0.0) == pytest.approx(20.0)  # one token every 20 s
    assert limit.take("b", 0.0) == 0.0  # per client
    assert limit.take("a", 21.0) == 0.0
