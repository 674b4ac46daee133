"""Files and directories the service writes are its own: readable and writable by its user only.

The database and the blobs hold every field value of every licence, the keys directory the seals.
The service sets a private umask at its entry points (the CLI, the app factory), creates what it
writes with explicit modes as well (a library caller may have another umask), and tightens what an
older version left readable when ``certsvc init`` or ``serve`` starts.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_umask() -> None:
    """Make everything this process creates from now on readable by its own user only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents, each 0700; existing directories are left as they are."""
    path = Path(path)
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass  # another process made it meanwhile
    return path


def create_private_file(path: Path) -> None:
    """Create an empty file at ``path`` with mode 0600 unless it exists (SQLite's -wal and -shm copy its mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def tighten(root: Path) -> list[Path]:
    """Take group and other permissions off everything under ``root`` (itself included); what was changed."""
    root = Path(root)
    if not root.is_dir():
        return []
    changed = _tighten_one(root)
    for top, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            changed += _tighten_one(Path(top) / name)
    return changed


def _tighten_one(p: Path) -> list[Path]:
    st = p.lstat()
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
        return []
    os.chmod(p, stat.S_IMODE(st.st_mode) & ~0o077)
    return [p]


def secret_key_file(path: Path, size: int = 32) -> bytes:
    """A random key of ``size`` bytes kept (hex) in ``path``: created 0600 exactly once — written to a
    temporary file and linked into place, so processes that race all end up with the one linked first."""
    path = Path(path)
    if not path.exists():
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.write(fd, os.urandom(size).hex().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic; if another process won the race, use its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < size:
        raise RuntimeError(f"{path}: the key is shorter than {size} bytes")
    return key
