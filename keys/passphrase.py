"""Where the key-encryption passphrase comes from: the environment, or a 0600 key file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_passphrase(explicit: str | None, path: Path) -> bytes:
    """Return the passphrase; create a random one in ``path`` (mode 0600) on first use."""
    if explicit:
        return explicit.encode()
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(f"{path} must not be readable by group or others (mode {mode:o})")
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32))
    return path.read_bytes().strip()
