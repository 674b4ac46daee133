"""A throw-away PostgreSQL cluster for ``python -m bench.run --postgres`` (as ``scripts/test.sh``
starts one for the tests): ``initdb`` in a temporary directory, the server on a free local port
with its socket in that directory, stopped and removed at the end, also on errors.

As root, the cluster runs as the ``postgres`` user (PostgreSQL refuses to run as root).
Server settings are PostgreSQL's defaults (durable commits: the bench measures what a
deployment gets); ``extra`` adds ``-c name=value`` settings.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.server import free_port

USER = "certsvc"


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` directory (Debian layout, else ``pg_ctl`` on PATH)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name.split(".")[0]))
    if dirs:
        return Path(dirs[-1])
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _as_owner() -> list[str]:
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", "-u", "postgres"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "-r", "postgres"], capture_output=True, check=True)
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def throwaway_cluster(parent: Path | None = None, extra: dict[str, str] | None = None) -> Iterator[str]:
    """Start a cluster; yield the SQLAlchemy URL of its database ``certsvc``; stop and remove it after."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin, no pg_ctl on PATH)")
    work = Path(tempfile.mkdtemp(prefix="certsvc-bench-pg-", dir=parent))
    data = work / "data"
    run = _as_owner()
    if run:
        shutil.chown(work, "postgres")
        work.chmod(0o755)
    port = free_port()
    options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1"
    for name, value in (extra or {}).items():
        options += f" -c {name}={value}"
    log = work / "pg.log"
    pg_ctl = [*run, str(bindir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        try:
            subprocess.run(
                [*run, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8"],
                capture_output=True,
                check=True,
                timeout=120,
            )
            subprocess.run([*pg_ctl, "-o", options, "-l", str(log), "-w", "start"], capture_output=True, check=True)
            started = True
            subprocess.run(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "certsvc"],
                capture_output=True,
                check=True,
                timeout=60,
            )
        except subprocess.CalledProcessError as e:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL cluster: {e.cmd[len(run)]} failed: {e.stderr!r} {tail}") from e
        yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}/certsvc"
    finally:
        if started:
            subprocess.run([*pg_ctl, "-m", "fast", "stop"], capture_output=True, check=False, timeout=120)
        shutil.rmtree(work, ignore_errors=True)
