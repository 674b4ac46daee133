"""Issuance rate with one subscriber receiving every event, against the same run without one.

``python -m bench.events [-n 400]``: two fresh servers (SQLite, dispatcher every 0.2 s), the same
batch issuance (100 per call) on each; with the subscriber, also how long until every event arrived.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.data import random_uscc
from tests.support.live import add_department_cli, free_port, serve, server_env
from tests.support.receiver import Receiver, receiving

TYPE = {"code": "GGWS", "name": "公共场所卫生许可证", "fields": [], "validity_days": 1460, "reform_mode": "approval"}


def _run(n: int, receiver: Receiver | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**server_env(Path(tmp), port), "CERTSVC_EVENTS_INTERVAL_S": "0.2"}
        auth = add_department_cli(env)
        proc = serve(env, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=600) as c:
                assert c.post("/api/v1/licence-types", json=TYPE).status_code == 201
                if receiver is not None:
                    r = c.post("/api/v1/subscriptions", json={"url": receiver.url, "licence_types": ["*"]})
                    assert r.status_code == 201, r.text
                c.post("/api/v1/licences:batch", json={"items": _items(20)})  # warm up
                started = time.perf_counter()
                for k in range(0, n, 100):
                    r = c.post("/api/v1/licences:batch", json={"items": _items(min(100, n - k))})
                    assert r.status_code == 200, r.text
                issued_s = time.perf_counter() - started
                out = {"issued_per_s": n / issued_s}
                if receiver is not None:
                    while len(receiver.got) < n + 20:
                        time.sleep(0.05)
                    out["all_delivered_after_s"] = time.perf_counter() - started
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def _items(n: int) -> list[dict[str, str]]:
    return [{"licence_type": "GGWS", "holder_uscc": random_uscc(), "holder_name": f"第{i}旅馆"} for i in range(n)]


def main() -> None:
    """Print both rates and their ratio."""
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=400)
    n = p.parse_args().n
    without = _run(n, None)
    with receiving() as receiver:
        with_sub = _run(n, receiver)
    ratio = with_sub["issued_per_s"] / without["issued_per_s"]
    print(f"without subscribers: {without['issued_per_s']:.1f} licences/s")
    print(
        f"one subscriber, every event: {with_sub['issued_per_s']:.1f} licences/s "
        f"(all {n} delivered {with_sub['all_delivered_after_s']:.1f} s after the first batch); ratio {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
