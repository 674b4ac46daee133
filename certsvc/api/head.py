"""``HEAD`` wherever ``GET`` is (RFC 9110 §9.3.2): the request is served as a ``GET`` and the answer
leaves with the same status and headers (``Content-Length`` included) and no body.

Whatever a ``GET`` records of a read (a scan counted, an access audited or logged) is not recorded
for a ``HEAD`` (:mod:`certsvc.core.head_only`); a route whose ``GET`` has another effect a ``HEAD``
must not have (a counted download, a report sealed) asks :func:`is_head` and answers the headers
without the effect."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from certsvc.core.head_only import serving_head

_FLAG = "certsvc.head"


def is_head(request: Request) -> bool:
    """Whether this request came as ``HEAD`` (routes see it as ``GET``)."""
    return bool(request.scope.get(_FLAG))


class HeadAsGet:
    """ASGI middleware: a ``HEAD`` goes through the app as a ``GET``; only the body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        with serving_head():
            await self.app({**scope, "method": "GET", _FLAG: True}, receive, without_body)
