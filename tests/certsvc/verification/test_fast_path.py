"""The fast path for files the service produced: answered from the recorded findings without
parsing, and the answer is the full analysis's — for every kind of file, with ``?at=``, after a
suspension, a grant's revocation and a key's revocation."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col

from certsvc.core import clock
from certsvc.db.models import Enterprise, Grant, SigningCertificate
from certsvc.db.session import session_scope
from certsvc.keyring import Subject
from certsvc.licences.archive import archive_timestamps
from certsvc.sharing.grants import revoke_grant
from certsvc.verification.trust import trust_for
from tests.support.produced import KINDS, every_kind
from tests.support.service import Service, running_service
from verify.trust import OwnerKind


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, dict[str, Any]]]:
    with running_service(Path(tmp_path_factory.mktemp("fast"))) as service:
        yield service, every_kind(service, "SQ202612020018")


def _paths(service: Service) -> dict[str, float]:
    text = service.client.get("/metrics").text
    return {
        s.labels["path"]: s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == "certsvc_verify_paths_total"
    }


@contextmanager
def _fast(service: Service, on: bool) -> Iterator[None]:
    ctx = service.ctx
    saved = ctx.settings
    ctx.settings = dataclasses.replace(saved, verify_fast_path=on)
    try:
        yield
    finally:
        ctx.settings = saved


def _verify(service: Service, pdf: bytes, at: str | None) -> dict[str, Any]:
    r = service.client.post(
        "/api/v1/verify", params={"at": at} if at else None, files={"file": ("f.pdf", pdf, "application/pdf")}
    )
    assert r.status_code == 200, r.text
    return r.json()


def _both(service: Service, pdf: bytes, at: str | None = None) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(answer with the fast path off, answer with it on once recorded, whether the fast path answered)."""
    with _fast(service, False):
        full = _verify(service, pdf, at)
    with _fast(service, True):
        _verify(service, pdf, at)  # records the findings if the service produced the file
        before = _paths(service).get("fast", 0)
        fast = _verify(service, pdf, at)
        used = _paths(service).get("fast", 0) == before + 1
    return full, fast, used


def _check_all(service: Service, files: dict[str, Any], at: str | None = None) -> dict[str, bool]:
    used = {}
    for kind in KINDS:
        full, fast, used[kind] = _both(service, files[kind][0], at)
        assert fast == full, kind
    return used


def test_every_kind_is_answered_fast_and_the_same(world) -> None:
    service, files = world
    assert all(_check_all(service, files).values())


def test_the_same_with_at(world) -> None:
    service, files = world
    at = (clock.now() - timedelta(days=400)).isoformat()  # before anything was issued
    assert all(_check_all(service, files, at).values())


def test_the_same_after_a_suspension(world) -> None:
    service, files = world
    food = files["licence"][1]
    r = service.client.post(
        f"/api/v1/licences/{food['id']}/suspend", headers=service.health.auth, json={"reason": "停业整顿 (test)"}
    )
    assert r.status_code == 200, r.text
    assert all(_check_all(service, files).values())
    full, _fast_answer, _ = _both(service, files["licence"][0])
    assert full["licence"]["status"] == "suspended"
    r = service.client.post(
        f"/api/v1/licences/{food['id']}/resume", headers=service.health.auth, json={"reason": "整改完成 (test)"}
    )
    assert r.status_code == 200, r.text


def test_the_same_after_the_grant_is_revoked(world) -> None:
    service, files = world
    copy = files["marked_copy"][0]
    with _fast(service, False):
        grant_id = _verify(service, copy, None)["grant"]["id"]
    with session_scope(service.ctx.engine) as s:  # as DELETE /enterprise/grants/{id} does
        g = s.get(Grant, grant_id)
        assert g is not None
        revoke_grant(s, s.get(Enterprise, g.enterprise_id), grant_id)
    full, fast, used = _both(service, copy)
    assert used and fast == full
    assert full["grant"]["active"] is False


def test_a_report_and_an_archive_time_stamped_licence_are_answered_fast_and_the_same(world) -> None:
    service, files = world
    page = service.client.post("/verify", files={"file": ("l.pdf", files["licence"][0], "application/pdf")})
    link = re.search(r'href="(/verify/reports/[0-9a-f]{32}\.pdf)"', page.text)
    assert page.status_code == 200 and link, page.text
    report = service.client.get(link.group(1))
    assert report.status_code == 200
    archive_timestamps(service.ctx, before=timedelta(days=36500))  # every stored licence gets a document time-stamp
    food = files["licence"][1]
    stamped = service.client.get(food["pdf_url"], headers=service.health.auth).content
    assert stamped != files["licence"][0]
    for name, pdf in (("report", report.content), ("archive", stamped)):
        full, fast, used = _both(service, pdf)
        assert used and fast == full, name
        assert full["verdict"] == "genuine", name


def test_the_same_after_the_key_is_revoked(world) -> None:
    service, files = world
    ctx = service.ctx
    with session_scope(ctx.engine) as s:
        d = service.health
        old = ctx.keyring.current(s, OwnerKind.DEPARTMENT, d.id)
        ctx.keyring.issue(s, OwnerKind.DEPARTMENT, d.id, Subject(d.name, d.name, d.uscc, "电子证照专用章"))
        ctx.keyring.revoke_from(s, clock.now() - timedelta(days=1), col(SigningCertificate.kid) == old.kid)
    assert trust_for(ctx.engine).by_kid(old.kid).revoked_from is not None
    used = _check_all(service, files)
    full, _f, _u = _both(service, files["licence"][0])
    assert full["verdict"] != "genuine"
    assert used["licence"]  # a stored licence is answered fast after the revocation too
    assert used["business_licence"]  # sealed by the market regulator, whose key stands
