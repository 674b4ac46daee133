"""Server subprocesses for the benchmark: certsvc (``certsvc serve``) and the bare baseline app.

Each server runs in its own process group (uvicorn, the verification forkserver and its workers),
so stopping it ends exactly the processes this harness started: SIGTERM to the group, then SIGKILL
after a grace period. Every server started is registered and stopped at exit, also on errors.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.load import HOST

_RUNNING: list[Server] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The harness's environment without any ``CERTSVC_*`` (tests set some), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTSVC_")}
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra or {})
    return env


def certsvc_argv(*args: str) -> list[str]:
    """``certsvc …`` from the same environment as this interpreter (the venv's console script)."""
    script = Path(sys.executable).with_name("certsvc")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "certsvc.cli", *args]


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, ready_path: str = "/healthz", timeout_s: float = 120.0) -> Server:
        log = open(self.log_path, "ab")  # handed to the child, closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _RUNNING.append(self)
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=5.0) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if c.get(ready_path).status_code < 500:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, grace_s: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    pass
            # the group may outlive its leader (forkserver, workers): make sure it is gone
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if self in _RUNNING:
            _RUNNING.remove(self)


def stop_all() -> None:
    for server in list(_RUNNING):
        server.stop(grace_s=5.0)


atexit.register(stop_all)


def _sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the harness's finally blocks, which stop the servers


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _sigterm)


# --- CPU accounting -------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = _stat_fields(int(entry))
            if f:
                children.setdefault(int(f[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_cpu_s(root: int | None) -> float:
    """CPU seconds (user+system, with reaped children) of ``root`` and its live descendants."""
    if root is None:
        return 0.0
    total = 0
    for pid in tree_pids(root):
        f = _stat_fields(pid)
        if f:
            total += sum(int(x) for x in f[11:15])  # utime stime cutime cstime
    return total / _TICK


def tree_cpu_by_process(root: int | None) -> dict[int, tuple[str, float]]:
    """{pid: (short command line, own CPU seconds)} for ``root`` and its live descendants."""
    out: dict[int, tuple[str, float]] = {}
    if root is None:
        return out
    for pid in tree_pids(root):
        f = _stat_fields(pid)
        if not f:
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        out[pid] = (cmd[-90:], (int(f[11]) + int(f[12])) / _TICK)
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    return (total - idle) / _TICK, total / _TICK


class CpuMeter:
    """Where the machine's CPU went during a phase: our servers, this harness (and wrk), the rest."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers

    def __enter__(self) -> CpuMeter:
        self.t0 = time.perf_counter()
        self.m0 = machine_cpu()
        self.s0 = {s.name: tree_cpu_s(s.pid) for s in self.servers}
        self.p0 = {s.name: tree_cpu_by_process(s.pid) for s in self.servers}
        t = os.times()
        self.h0 = t.user + t.system + t.children_user + t.children_system
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.t0
        m1 = machine_cpu()
        t = os.times()
        harness = t.user + t.system + t.children_user + t.children_system - self.h0
        servers = {s.name: tree_cpu_s(s.pid) - self.s0.get(s.name, 0.0) for s in self.servers}
        per_process = {}
        for s in self.servers:
            before = self.p0.get(s.name, {})
            rows = []
            for pid, (cmd, cpu) in tree_cpu_by_process(s.pid).items():
                used = cpu - before.get(pid, (cmd, 0.0))[1]
                if used >= 0.01:
                    rows.append({"pid": pid, "cmd": cmd, "cpu_s": round(used, 3)})
            per_process[s.name] = sorted(rows, key=lambda r: -r["cpu_s"])
        busy = m1[0] - self.m0[0]
        cores = (m1[1] - self.m0[1]) / wall if wall else 0.0
        self.result = {
            "wall_s": round(wall, 3),
            "machine_busy_cores": round(busy / wall, 2) if wall else 0.0,
            "machine_cores": round(cores, 2),
            "server_cores": {k: round(v / wall, 2) for k, v in servers.items()} if wall else {},
            "server_cpu_s": {k: round(v, 3) for k, v in servers.items()},
            "harness_cpu_s": round(harness, 3),
            "server_processes": per_process,
            "harness_cores": round(harness / wall, 2) if wall else 0.0,
            "other_cores": round(max(0.0, busy - harness - sum(servers.values())) / wall, 2) if wall else 0.0,
        }
