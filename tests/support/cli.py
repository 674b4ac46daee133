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


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``certsvc ARGS`` in ``cwd`` with ``env`` (default: this process's), as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", *args],
        cwd=cwd,
        env=dict(os.environ) if env is None else env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def without_certsvc_env() -> dict[str, str]:
    """This process's environment without any ``CERTSVC_*``: a shell where nothing points at a service."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CERTSVC_")}


def last_line(text: str) -> str:
    """The last non-empty line of a command's output (where new keys and codes are printed)."""
    return [line for line in text.splitlines() if line.strip()][-1].strip()
