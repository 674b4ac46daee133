"""Baseline B: a bare FastAPI app with one route returning a constant, served like certsvc.

``python -m bench.bare_app --port P`` runs certsvc's own ``serve`` command (same uvicorn options,
worker count, event loop and HTTP parser selection, log level and access log) with only the
application swapped: every ``uvicorn.Config`` built in this process gets this module's app instead
of certsvc's. The options uvicorn was given are printed on one line (``BENCH_UVICORN_OPTIONS``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fastapi import FastAPI

PATH = "/const"
BODY = {"ok": True, "service": "baseline", "status": "valid"}


def create_app() -> FastAPI:
    app = FastAPI(title="bench baseline B")

    @app.get(PATH)
    def constant() -> dict[str, Any]:
        return BODY

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()


def main(argv: list[str]) -> int:
    import uvicorn

    original = uvicorn.Config.__init__

    def swapped(self: uvicorn.Config, app: Any, *args: Any, **kwargs: Any) -> None:
        options = {k: v for k, v in kwargs.items() if isinstance(v, str | int | float | bool | type(None))}
        print("BENCH_UVICORN_OPTIONS " + json.dumps({"app": str(app), **options}), flush=True)
        target = "bench.bare_app:create_app" if kwargs.get("factory") else "bench.bare_app:app"
        original(self, target, *args, **kwargs)

    uvicorn.Config.__init__ = swapped  # type: ignore[method-assign]
    from certsvc.cli import main as certsvc_main

    return certsvc_main(["serve", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
