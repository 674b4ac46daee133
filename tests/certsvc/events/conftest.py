"""The events tests' service (its own dispatcher off: each test dispatches when it wants) and a
real HTTP receiver on a local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.receiver import Receiver, receiving
from tests.support.service import Service, running_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("certsvc"), CERTSVC_EVENTS_INTERVAL_S="0") as svc:
        yield svc


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as rec:
        yield rec
