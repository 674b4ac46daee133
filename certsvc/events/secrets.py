"""Subscription secrets at rest, sealed by :mod:`certsvc.sealed` (AES-GCM under the service's
sealing key, which the database does not hold). A database reader sees only ciphertext bound to its
subscription id, and cannot sign deliveries with it."""

from __future__ import annotations

import base64
import secrets as _random

from certsvc import sealed
from certsvc.core.config import Settings

_INFO = b"certsvc event subscription secrets v1"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(_random.token_bytes(32)).decode()


def seal(settings: Settings, subscription_id: str, secret: str) -> str:
    """The secret encrypted for storage, bound to its subscription."""
    return sealed.seal(settings, _INFO, subscription_id, secret)


def unseal(settings: Settings, subscription_id: str, sealed_secret: str) -> str:
    """The secret back, to sign a delivery (:class:`certsvc.sealed.Unreadable` if the row was tampered
    with or moved, or the sealing key changed)."""
    return sealed.unseal(settings, _INFO, subscription_id, sealed_secret)
