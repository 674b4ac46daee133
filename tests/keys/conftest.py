"""A throw-away SoftHSM2 token store for the PKCS#11 tests.

SoftHSM2 reads ``SOFTHSM2_CONF`` and discovers its tokens when the library is initialised, once
per process, so one token directory serves the whole test session; :func:`new_token` creates a
fresh token in it and re-initialises the library (open sessions then reconnect by themselves).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOFTHSM_MODULE = os.environ.get("CERTSVC_TEST_SOFTHSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
USER_PIN = "1234"
SO_PIN = "5678"


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str


def softhsm_missing() -> str | None:
    if not Path(SOFTHSM_MODULE).exists():
        return f"SoftHSM2 not installed ({SOFTHSM_MODULE} missing): apt-get install softhsm2"
    if shutil.which("softhsm2-util") is None:
        return "SoftHSM2 not installed (softhsm2-util not on PATH): apt-get install softhsm2"
    return None


@pytest.fixture(scope="session")
def new_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Token]]:
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
