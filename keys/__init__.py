"""Key management: the service CA, seal and signing certificates, key storage backends.

Public surface: :class:`KeyBackend` (storage), :func:`open_backend`, and the certificate
helpers in :mod:`keys.ca`. Nothing here imports the web layer.
"""

from keys.backend import KeyBackend, KeyBackendError, open_backend

__all__ = ["KeyBackend", "KeyBackendError", "open_backend"]
