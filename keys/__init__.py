"""Key management: the service CA, seal and signing certificates, key storage backends.

Public surface: :class:`KeyBackend` (storage), :class:`KeyConfig` and :func:`open_backend`, and the
certificate helpers in :mod:`keys.ca`. Nothing here imports the web layer.
"""

from keys import x509names
from keys.backend import KeyBackend, KeyBackendError
from keys.config import KeyConfig, open_backend

x509names.install()  # names in characters newer than Unicode 3.2 (CJK Ext-C, emoji) compare

__all__ = ["KeyBackend", "KeyBackendError", "KeyConfig", "open_backend"]
