"""Domain errors. Each maps to an HTTP status and explains itself to a person."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def diagnostics(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class Invalid(ServiceError):
    status = 422
    code = "invalid"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Gone(ServiceError):
    status = 410
    code = "gone"


class TooLarge(ServiceError):
    status = 413
    code = "too_large"


class TooManyRequests(ServiceError):
    status = 429
    code = "too_many_requests"


class Internal(ServiceError):
    """Something failed on our side; the details are in the log, not in the answer."""

    status = 500
    code = "internal"


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"
