"""Subscription secrets at rest: AES-GCM under a key derived (HKDF) from the key backend's own
secret (the key passphrase, or the token PIN), which the database does not hold. A database reader
sees only ciphertext bound to its subscription id, and cannot sign deliveries with it."""

from __future__ import annotations

import base64
import os
import secrets as _random
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certsvc.core.config import Settings
from keys.passphrase import load_passphrase

_INFO = b"certsvc event subscription secrets v1"


def _key(settings: Settings) -> bytes:
    if settings.key_backend == "pkcs11":
        material = (settings.pkcs11_pin or "").encode() + (settings.pkcs11_token_label or "").encode()
    else:
        material = load_passphrase(settings.key_passphrase, settings.key_passphrase_file)
    return _derive(material)


@lru_cache(maxsize=8)
def _derive(material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(_random.token_bytes(32)).decode()


def seal(settings: Settings, subscription_id: str, secret: str) -> str:
    """The secret encrypted for storage, bound to its subscription."""
    nonce = os.urandom(12)
    ct = AESGCM(_key(settings)).encrypt(nonce, secret.encode(), subscription_id.encode())
    return "v1:" + base64.b64encode(nonce + ct).decode()


def unseal(settings: Settings, subscription_id: str, sealed: str) -> str:
    """The secret back, to sign a delivery (raises if the row was tampered with or moved)."""
    raw = base64.b64decode(sealed.removeprefix("v1:"))
    return AESGCM(_key(settings)).decrypt(raw[:12], raw[12:], subscription_id.encode()).decode()
