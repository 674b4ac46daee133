"""Secrets the service must read back, at rest (share and live-code tokens, webhook secrets):
AES-GCM under a random 32-byte key kept in ``<data dir>/sealing-key`` (0600, made on first use),
which the database does not hold. ``certsvc backup`` and ``restore`` carry it.

A database reader sees only ciphertext bound to its row (``bound``) and its use (``purpose``): a
sealed value moved to another row, or read for another use, does not decrypt.

Values sealed before the key file (``v1:``) were sealed under a key derived (HKDF) from the key
backend's own secret — the key passphrase, or the token PIN and label, which a reader of the
database could guess offline — and are still read that way; every new value is ``v2:``. A value
that cannot be read (a changed PIN, a lost key file) raises :class:`Unreadable`: callers answer
as for a secret that was never kept.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certsvc.core.config import Settings
from certsvc.core.files import secret_key_file
from keys.passphrase import load_passphrase

KEY_FILE = "sealing-key"
"""The key's file name in the data directory."""

_V1, _V2 = "v1:", "v2:"
_NONCE = 12


class Unreadable(Exception):
    """A sealed value that cannot be read back: tampered with, moved, or sealed under another key."""


def key_path(settings: Settings) -> Path:
    """Where the sealing key is kept: ``<data dir>/sealing-key``."""
    return settings.data_dir / KEY_FILE


@lru_cache(maxsize=8)
def _file_key(path: Path, stamp: tuple[int, int] | None) -> bytes:
    return secret_key_file(path)


def _key_of_file(settings: Settings) -> bytes:
    """The key in the file, read again when the file is replaced (a restore)."""
    path = key_path(settings).resolve()
    try:
        st = path.stat()
        stamp: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
    except FileNotFoundError:
        stamp = None
    return _file_key(path, stamp)


def _v1_material(settings: Settings) -> bytes:
    if settings.key_backend == "pkcs11":
        return (settings.pkcs11_pin or "").encode() + (settings.pkcs11_token_label or "").encode()
    return load_passphrase(settings.key_passphrase, settings.key_passphrase_file)


@lru_cache(maxsize=16)
def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def _v2_key(settings: Settings, purpose: bytes) -> bytes:
    return _derive(_key_of_file(settings), purpose)


def seal(settings: Settings, purpose: bytes, bound: str, secret: str) -> str:
    """``secret`` encrypted for storage (``v2:``), bound to its row id ``bound`` and its ``purpose``."""
    nonce = os.urandom(_NONCE)
    ct = AESGCM(_v2_key(settings, purpose)).encrypt(nonce, secret.encode(), bound.encode())
    return _V2 + base64.b64encode(nonce + ct).decode()


def unseal(settings: Settings, purpose: bytes, bound: str, sealed: str) -> str:
    """The secret back; :class:`Unreadable` if the row was tampered with or moved, or the key changed."""
    if sealed.startswith(_V2):
        key = _v2_key(settings, purpose)
    elif sealed.startswith(_V1):
        key = _derive(_v1_material(settings), purpose)
    else:
        raise Unreadable("not a sealed value")
    try:
        raw = base64.b64decode(sealed[len(_V2) :], validate=True)
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], bound.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError) as e:
        raise Unreadable("the sealed value cannot be read with this service's keys") from e
