"""Which key backend to open, as typed configuration, and :func:`open_backend`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from keys.backend import KeyBackend, KeyBackendError
from keys.files import FileKeyBackend
from keys.passphrase import load_passphrase


@dataclass(frozen=True)
class KeyConfig:
    """Where the keys live: encrypted PKCS#8 files under ``keys_dir``, or a PKCS#11 token."""

    kind: Literal["file", "pkcs11"]
    keys_dir: Path
    passphrase: str | None = None
    """The file backend's passphrase; if None, it is read from (or created in) ``passphrase_file``."""
    passphrase_file: Path | None = None
    pkcs11_module: str | None = None
    pkcs11_token_label: str | None = None
    pkcs11_pin: str | None = None


def open_backend(config: KeyConfig) -> KeyBackend:
    """Open the backend ``config`` names."""
    if config.kind == "pkcs11":
        from keys.pkcs11 import Pkcs11KeyBackend  # python-pkcs11 is loaded only when a token is used

        if not config.pkcs11_module or not config.pkcs11_token_label:
            raise KeyBackendError("a PKCS#11 backend needs the module path and the token label")
        return Pkcs11KeyBackend(
            module=config.pkcs11_module, token_label=config.pkcs11_token_label, pin=config.pkcs11_pin
        )
    passphrase = load_passphrase(config.passphrase, config.passphrase_file or config.keys_dir / "passphrase")
    return FileKeyBackend(config.keys_dir, passphrase)
