"""Helpers of the event tests: subscribe a department, drive the dispatcher as of a moment, change a licence."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from certsvc.core import clock
from certsvc.events.dispatch import dispatch_once
from tests.support.service import Dept, Service

FOOD = "SZWJ:SPJY"  # the food licence type of the health department


def subscribe(service: Service, dept: Dept, url: str, types: list[str], events: list[str] | None = None) -> dict:
    body: dict = {"url": url, "licence_types": types}
    if events is not None:
        body["events"] = events
    r = service.client.post("/api/v1/subscriptions", headers=dept.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def dispatch(service: Service, after_s: float = 0, **settings: float) -> dict[str, int]:
    at = clock.now() + timedelta(seconds=after_s)
    conf = dataclasses.replace(service.ctx.settings, **settings)
    return asyncio.run(dispatch_once(service.ctx.engine, conf, now=at))


def change(service: Service, licence_id: str, action: str, reason: str = "现场核查发现问题", dept: Dept | None = None):
    r = service.client.post(
        f"/api/v1/licences/{licence_id}/{action}", headers=(dept or service.health).auth, json={"reason": reason}
    )
    assert r.status_code == 200, r.text
    return r.json()


def deliveries(service: Service, dept: Dept, sub: dict) -> list[dict]:
    r = service.client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries", headers=dept.auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]
