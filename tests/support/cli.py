"""Running the real ``certsvc`` command line in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_verify(*args: str, cwd: Path, online: bool = False) -> subprocess.CompletedProcess:
    """``certsvc verify ARGS`` in ``cwd``. Online it inherits the ``CERTSVC_*`` environment of the
    running test service; offline it gets none, so it cannot reach the service's data."""
    env = dict(os.environ)
    if not online:
        env = {k: v for k, v in env.items() if not k.startswith("CERTSVC_")}
        env["CERTSVC_DATA_DIR"] = str(cwd / "nowhere")
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "verify", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def answer(r: subprocess.CompletedProcess) -> dict[str, Any]:
    """The JSON answer of a ``--json`` run."""
    return json.loads(r.stdout)
