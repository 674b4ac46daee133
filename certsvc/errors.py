"""Domain errors: one hierarchy for the whole service.

Every error certsvc raises on purpose is a :class:`ServiceError`: it has a stable machine ``code``
and explains itself to a person (:meth:`ServiceError.diagnostics`). It knows nothing of HTTP: the
API edge (:mod:`certsvc.api.errors`) decides which status each class of error answers with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Denial:
    """A refused attempt worth a trace (a bad key, another department's licence, a dead share link).

    Attached to the error that refuses it; the API edge records it in the audit log with the client
    address (:mod:`certsvc.denials`). ``holder_uscc`` set: the holder sees it in its access log too.
    Only things that exist are named as subject, so guessed values cannot multiply the log's rows.
    """

    kind: str
    actor_kind: str = "public"
    actor_id: str | int | None = None
    subject_kind: str | None = None
    subject_id: str | int | None = None
    reason: str | None = None
    holder_uscc: str | None = None
    licence_id: str | None = None
    grant_id: str | None = None


class ServiceError(Exception):
    """The root of certsvc's errors: a ``code``, a ``message`` and, for bad input, the ``field``;
    ``denial`` when the refusal is to be recorded; ``retry_after`` (seconds) when trying again later
    may succeed."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        denial: Denial | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.denial = denial
        self.retry_after = retry_after

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
    """No such thing, or not the caller's: the two are answered alike, so as not to reveal what exists."""

    code = "not_found"


class Conflict(ServiceError):
    """The request contradicts the current state (an existing code, a revoked licence)."""

    code = "conflict"


class CreditRestricted(Conflict):
    """The holder is on the serious-dishonesty list (信用约束): no commitment, filing or 容缺 for it."""

    code = "credit_restricted"


class Unauthorized(ServiceError):
    """No credentials, or credentials that are not (or no longer) valid; also a wrong activation code.
    ``token_given``: a bearer token came with the request and was refused (RFC 6750 ``invalid_token``)."""

    code = "unauthorized"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        denial: Denial | None = None,
        token_given: bool = False,
    ) -> None:
        super().__init__(message, field=field, denial=denial)
        self.token_given = token_given


class Forbidden(ServiceError):
    """The caller is known but may not do this."""

    code = "forbidden"


class Gone(ServiceError):
    """The thing existed but has ended (a revoked or used-up share link)."""

    code = "gone"


class TooLarge(ServiceError):
    """A request body or upload over the service's limit."""

    code = "too_large"


class TooManyRequests(ServiceError):
    """Too many attempts or uploads from one caller; it must wait (``retry_after``) before trying again."""

    code = "too_many_requests"


class Internal(ServiceError):
    """Something failed on our side; the details are in the log, not in the answer."""

    code = "internal"


class Unavailable(ServiceError):
    """A resource is busy or down for now; trying again later may succeed."""

    code = "unavailable"
