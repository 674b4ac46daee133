"""SoftHSM2 for the PKCS#11 tests: where the module is, the PINs, what a token is."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

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
