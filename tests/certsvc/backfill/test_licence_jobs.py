"""Back-fill jobs (POST /licence-jobs): paper licences issued in the background with their own
numbers and issue dates; per-item errors as results; results a page at a time or as a file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from certsvc.db.models import AuditEvent, Licence
from signing.layout import cn_date
from tests.support.data import food_licence_body
from tests.support.pdfcheck import page_text, signature_status
from tests.support.service import Service

N_PAPER = 220
JOBS = "/api/v1/licence-jobs"
FIRST_DAY = date(2019, 3, 1)


def paper_number(k: int) -> str:
    return f"JY144030519{k:05d}"


def wait_done(service: Service, job_id: str, auth: dict, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = service.client.get(f"{JOBS}/{job_id}", headers=auth)
        assert r.status_code == 200, r.text
        if r.json()["state"] in ("done", "failed"):
            return r.json()
        time.sleep(0.5)
    raise AssertionError(f"job not done in {timeout} s: {r.json()}")


@pytest.fixture(scope="module")
def job(service: Service) -> dict:
    """One job: N_PAPER paper licences with numbers and dates, 10 without, and five bad items."""
    existing = service.issue_food()
    items = [
        food_licence_body(
            number=paper_number(k),
            issued_on=(FIRST_DAY + timedelta(days=k)).isoformat(),
            valid_until="2029-12-31",
        )
        for k in range(N_PAPER)
    ]
    items += [food_licence_body() for _ in range(10)]
    today = date.today()
    bad = {
        "same_number_in_job": food_licence_body(number=paper_number(3)),
        "number_of_a_licence": food_licence_body(number=existing["number"]),
        "issued_in_future": food_licence_body(issued_on=(today + timedelta(days=10)).isoformat()),
        "issued_after_end": food_licence_body(
            issued_on="2020-05-01", valid_from="2020-01-01", valid_until="2020-04-30"
        ),
        "bad_uscc": food_licence_body(holder_uscc="91440300MA5G0A1B4X"),
    }
    first_bad = len(items)
    items += list(bad.values())
    r = service.client.post(JOBS, headers=service.health.auth, json={"items": items})
    assert r.status_code == 202, r.text
    created = r.json()
    status = wait_done(service, created["id"], service.health.auth)
    return {
        "created": created,
        "status": status,
        "items": items,
        "bad": {name: first_bad + i for i, name in enumerate(bad)},
        "existing": existing,
    }


def all_results(service: Service, job_id: str, limit: int) -> list[dict]:
    out, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = service.client.get(f"{JOBS}/{job_id}/results", headers=service.health.auth, params=params)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        pages += 1
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out
        assert pages < 1000


def test_a_job_is_accepted_at_once_with_its_url(service: Service, job: dict) -> None:
    created = job["created"]
    assert created["url"] == f"http://testserver{JOBS}/{created['id']}"
    assert created["total"] == len(job["items"])


def test_the_job_finishes_with_every_item_counted(job: dict) -> None:
    status = job["status"]
    assert status["state"] == "done"
    assert (status["total"], status["done"], status["failed"], status["pending"]) == (
        len(job["items"]),
        len(job["items"]) - len(job["bad"]),
        len(job["bad"]),
        0,
    )
    assert status["finished_at"] >= status["started_at"]


def test_paper_numbers_and_issue_dates_are_kept(service: Service, job: dict) -> None:
    results = all_results(service, job["created"]["id"], 200)
    with Session(service.ctx.engine) as s:
        for k in (0, 7, N_PAPER - 1):
            assert results[k]["number"] == paper_number(k)
            lic = s.get(Licence, results[k]["id"])
            assert lic is not None and lic.number == paper_number(k)
            assert lic.issued_on == FIRST_DAY + timedelta(days=k)
    r = service.client.get(f"/api/v1/licences/{results[7]['id']}", headers=service.health.auth)
    assert r.json()["issued_on"] == (FIRST_DAY + timedelta(days=7)).isoformat()
    assert r.json()["valid_from"] == r.json()["issued_on"]  # without valid_from: valid from its issue date


def test_the_pdf_prints_and_carries_the_original_issue_date_and_still_verifies(
    service: Service, job: dict, tmp_path: Path
) -> None:
    lic = all_results(service, job["created"]["id"], 50)[7]
    issued = FIRST_DAY + timedelta(days=7)
    pdf = service.client.get(lic["pdf_url"], headers=service.health.auth).content
    text = "".join(page_text(pdf).split())
    assert paper_number(7) in text
    assert "发证日期" in text and cn_date(date.today()) not in text
    assert cn_date(issued) in text.replace(f"自{cn_date(issued)}至", "")  # not only as the start of validity
    (tmp_path / "l.pdf").write_bytes(pdf)
    meta = subprocess.run(["pdfinfo", "-meta", str(tmp_path / "l.pdf")], capture_output=True, text=True, check=True)
    xmp = ET.fromstring(meta.stdout[meta.stdout.index("<x:xmpmeta") : meta.stdout.index("</x:xmpmeta>") + 12])
    values = {el.tag.split("}")[1]: el.text for el in xmp.iter() if el.tag.startswith("{urn:certsvc:xmp:gbt36903")}
    attrs = {
        k.split("}")[1]: v for el in xmp.iter() for k, v in el.attrib.items() if k.startswith("{urn:certsvc:xmp:gbt")
    }
    assert {**values, **attrs}["颁发日期"] == issued.isoformat()
    _sig, status = signature_status(service.ctx, pdf)
    assert status.intact and status.valid
    v = service.client.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")})
    assert v.json()["verdict"] == "genuine" and v.json()["licence"]["number"] == paper_number(7)


def test_a_number_repeated_within_the_job_is_that_items_error(service: Service, job: dict) -> None:
    results = all_results(service, job["created"]["id"], 200)
    r = results[job["bad"]["same_number_in_job"]]
    assert r["state"] == "failed" and r["status_code"] == 409
    assert r["error"]["field"] == "number" and "item 3 of this job" in r["error"]["message"]
    assert results[3]["state"] == "done"


def test_a_number_a_licence_already_has_is_that_items_error(service: Service, job: dict) -> None:
    r = all_results(service, job["created"]["id"], 200)[job["bad"]["number_of_a_licence"]]
    assert r["state"] == "failed" and r["status_code"] == 409 and r["error"]["field"] == "number"
    with Session(service.ctx.engine) as s:
        n = s.exec(select(func.count()).where(Licence.number == job["existing"]["number"])).one()
    assert n == 1


@pytest.mark.parametrize("name", ["issued_in_future", "issued_after_end"])
def test_an_impossible_issue_date_is_that_items_error(service: Service, job: dict, name: str) -> None:
    r = all_results(service, job["created"]["id"], 200)[job["bad"][name]]
    assert r["state"] == "failed" and r["status_code"] == 422
    assert r["error"]["field"] == "issued_on" and r["error"]["message"].startswith("issued_on: ")


def test_each_item_is_issued_once_with_its_own_licence(service: Service, job: dict) -> None:
    results = all_results(service, job["created"]["id"], 200)
    ids = [r["id"] for r in results if r["state"] == "done"]
    assert len(ids) == len(set(ids)) == job["status"]["done"]
    with Session(service.ctx.engine) as s:
        numbers = [paper_number(k) for k in range(N_PAPER)]
        assert s.exec(select(func.count()).where(col(Licence.number).in_(numbers))).one() == N_PAPER
        issued = s.exec(
            select(func.count()).where(AuditEvent.action == "licence.issue", col(AuditEvent.subject_id).in_(ids))
        ).one()
    assert issued == len(ids)


def test_results_page_through_in_order_without_gaps_or_repeats(service: Service, job: dict) -> None:
    results = all_results(service, job["created"]["id"], 37)
    assert [r["index"] for r in results] == list(range(len(job["items"])))
    assert all(r["verify_url"].startswith("http://testserver/v/") for r in results if r["state"] == "done")


def test_a_cursor_not_given_by_the_service_is_422(service: Service, job: dict) -> None:
    r = service.client.get(
        f"{JOBS}/{job['created']['id']}/results", headers=service.health.auth, params={"cursor": "bm9wZQ"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "cursor"


def test_results_download_as_csv(service: Service, job: dict) -> None:
    r = service.client.get(f"{JOBS}/{job['created']['id']}/results.csv", headers=service.health.auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="licence-job-{job["created"]["id"]}-results.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == len(job["items"])
    assert rows[5]["number"] == paper_number(5) and rows[5]["state"] == "done"
    bad = rows[job["bad"]["issued_in_future"]]
    assert (bad["state"], bad["status_code"], bad["error_field"]) == ("failed", "422", "issued_on")


def test_results_download_as_json_lines(service: Service, job: dict) -> None:
    r = service.client.get(f"{JOBS}/{job['created']['id']}/results.jsonl", headers=service.health.auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines == all_results(service, job["created"]["id"], 200)


@pytest.mark.parametrize("path", ["", "/results", "/results.csv"])
def test_another_department_gets_404(service: Service, job: dict, path: str) -> None:
    r = service.client.get(f"{JOBS}/{job['created']['id']}{path}", headers=service.housing.auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_job_needs_a_department_key(service: Service) -> None:
    assert service.client.post(JOBS, json={"items": [food_licence_body()]}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"items": {}}', "items"),
        (b'{"items": []}', "items"),
        (b"{}", "items"),
        (b'{"items": [{}], "more": 1}', "body"),
        (b'{"items": [{}, 3]}', "items.1"),
        (b'{"items": [{}, {"fields": ' + b"[" * 1500 + b"]" * 1500 + b"}]}", "items.1"),
    ],
)
def test_a_body_of_another_shape_is_422_naming_where(service: Service, body: bytes, field: str) -> None:
    headers = {**service.health.auth, "content-type": "application/json"}
    r = service.client.post(JOBS, headers=headers, content=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_more_than_100000_items_is_413(service: Service) -> None:
    body = b'{"items": [' + b",".join([b"{}"] * 100_001) + b"]}"
    headers = {**service.health.auth, "content-type": "application/json"}
    r = service.client.post(JOBS, headers=headers, content=body)
    assert r.status_code == 413 and "100,000" in r.json()["error"]["message"]


def test_a_body_over_the_limit_is_413_in_mib(service: Service) -> None:
    limit = service.ctx.settings.job_max_mib
    headers = {**service.health.auth, "content-type": "application/json", "content-length": str(limit * 2**20 + 1)}
    r = service.client.post(JOBS, headers=headers, content=b"{}")
    assert r.status_code == 413 and f"{limit} MiB" in r.json()["error"]["message"]
