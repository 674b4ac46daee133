"""Fixtures shared by every test directory. Helpers live in :mod:`tests.support`.

``service`` is module-scoped: every test module gets a service of its own (database, keys, blobs
in a temp dir, behind a test client), so no module sees what another one left behind, in any
order. Set ``CERTSVC_TEST_DATABASE_URL`` to a PostgreSQL server URL to run on PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.pkcs11 import SO_PIN, SOFTHSM_MODULE, USER_PIN, Token, softhsm_missing
from tests.support.service import Service, running_service


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (long matrices, soak) run only with ``CERTSVC_SLOW=1``; CI runs the
    quick versions next to them."""
    if os.environ.get("CERTSVC_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set CERTSVC_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service of this module's own: the root CA, a market regulator (registrar), a health and a
    housing department, and the food licence type. ``CERTSVC_*`` point at it while it runs."""
    with running_service(tmp_path_factory.mktemp("certsvc")) as svc:
        yield svc


@pytest.fixture
def client(service: Service) -> TestClient:
    return service.client


@pytest.fixture
def issue_food(service: Service) -> Callable[..., dict]:
    """Issue a food licence from the health department (a fresh holder unless ``uscc`` is given)."""
    return service.issue_food


@pytest.fixture(scope="session")
def new_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Token]]:
    """Make a fresh SoftHSM2 token. SoftHSM2 reads ``SOFTHSM2_CONF`` and finds its tokens when the
    library is initialised, once per process, so one token directory serves the whole session;
    each new token re-initialises the library (open sessions then reconnect by themselves)."""
    reason = softhsm_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)

    def make(prefix: str) -> Token:
        label = f"{prefix}-{secrets.token_hex(3)}"
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
            env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        )
        import pkcs11

        pkcs11.lib(SOFTHSM_MODULE).reinitialize()  # SoftHSM2 only finds new tokens on C_Initialize
        return Token(SOFTHSM_MODULE, label, USER_PIN)

    yield make
    if saved is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = saved
