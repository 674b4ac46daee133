"""certsvc run as a real server process (`certsvc serve`) on a free local port, for operations tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.data import random_uscc
from tests.support.service import database_url

CLI = [sys.executable, "-m", "certsvc.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTSVC_")}
    env.update(
        CERTSVC_DATA_DIR=str(data),
        CERTSVC_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        CERTSVC_KEY_PASSPHRASE="crash-test",
    )
    env["CERTSVC_DATABASE_URL"] = database_url(data)
    return env


def add_department_cli(
    env: dict[str, str],
    name: str = "深圳市卫生健康委员会",
    code: str = "SZWJ",
    *,
    registrar: bool = False,
    credit: bool = False,
) -> dict[str, str]:
    """Create a department (the health department by default) with the CLI; its API key is the last line printed."""
    flags = [*(["--registrar"] if registrar else []), *(["--credit"] if credit else [])]
    command = [*CLI, "department", "add", "--name", name, "--code", code, *flags]
    out = subprocess.run(
        [*command, "--uscc", random_uscc("11440300")], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return {"Authorization": f"Bearer {out.stdout.strip().splitlines()[-1]}"}


def wait_ready(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc
