"""Secrets the service must read back, at rest: AES-GCM under a key derived (HKDF) from the key
backend's own secret (the key passphrase, or the token PIN), which the database does not hold.

A database reader sees only ciphertext bound to its row (``bound``) and its use (``purpose``): a
sealed value moved to another row, or read for another use, does not decrypt.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certsvc.core.config import Settings
from keys.passphrase import load_passphrase


def _material(settings: Settings) -> bytes:
    if settings.key_backend == "pkcs11":
        return (settings.pkcs11_pin or "").encode() + (settings.pkcs11_token_label or "").encode()
    return load_passphrase(settings.key_passphrase, settings.key_passphrase_file)


@lru_cache(maxsize=16)
def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def seal(settings: Settings, purpose: bytes, bound: str, secret: str) -> str:
    """``secret`` encrypted for storage, bound to its row id ``bound`` and its ``purpose``."""
    nonce = os.urandom(12)
    ct = AESGCM(_derive(_material(settings), purpose)).encrypt(nonce, secret.encode(), bound.encode())
    return "v1:" + base64.b64encode(nonce + ct).decode()


def unseal(settings: Settings, purpose: bytes, bound: str, sealed: str) -> str:
    """The secret back (raises if the row was tampered with or moved, or the key material changed)."""
    raw = base64.b64decode(sealed.removeprefix("v1:"))
    return AESGCM(_derive(_material(settings), purpose)).decrypt(raw[:12], raw[12:], bound.encode()).decode()
