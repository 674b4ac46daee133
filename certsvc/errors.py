"""Domain errors: one hierarchy for the whole service.

Every error certsvc raises on purpose is a :class:`ServiceError`: it has a stable machine ``code``
and explains itself to a person (:meth:`ServiceError.diagnostics`). It knows nothing of HTTP: the
API edge (:mod:`certsvc.api.errors`) decides which status each class of error answers with.
"""

from __future__ import annotations


class ServiceError(Exception):
    """The root of certsvc's errors: a ``code``, a ``message`` and, for bad input, the ``field``."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def diagnostics(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


class BadRequest(ServiceError):
    """The request cannot be understood as sent (a missing parameter, a malformed value)."""

    code = "bad_request"


class Invalid(ServiceError):
    """A value breaks a rule of the domain; ``field`` names it."""

    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    """The request contradicts the current state (an existing code, a revoked licence)."""

    code = "conflict"


class Unauthorized(ServiceError):
    code = "unauthorized"


class Forbidden(ServiceError):
    code = "forbidden"


class Gone(ServiceError):
    """The thing existed but has ended (a revoked or used-up share link)."""

    code = "gone"


class TooLarge(ServiceError):
    code = "too_large"


class TooManyRequests(ServiceError):
    code = "too_many_requests"


class Internal(ServiceError):
    """Something failed on our side; the details are in the log, not in the answer."""

    code = "internal"


class Unavailable(ServiceError):
    """A resource is busy or down for now; trying again later may succeed."""

    code = "unavailable"
