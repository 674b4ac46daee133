"""A webhook receiver on a local port: records every POST (headers and raw body) and answers with
the statuses it is given, in turn (then 204)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    statuses: list[int] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def about(self, licence_id: str) -> list[Received]:
        """What arrived about one licence, in arrival order."""
        with self.lock:
            return [r for r in self.got if r.json["data"].get("licence_id") == licence_id]

    def of_type(self, event: str) -> list[Received]:
        with self.lock:
            return [r for r in self.got if r.json["type"] == event]


@contextmanager
def receiving(*statuses: int, delay: float = 0.0) -> Iterator[Receiver]:
    """A threaded HTTP server on 127.0.0.1 that records what it is sent (after ``delay`` seconds)."""
    rec = Receiver(statuses=list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            if delay:
                time.sleep(delay)
            with rec.lock:
                rec.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status = rec.statuses.pop(0) if rec.statuses else 204
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
