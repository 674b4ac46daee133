"""Small HTTP details: ``HEAD`` wherever ``GET`` is, sizes in the README's units, 422 for every
validation failure (a look-up without ``purpose`` too), and one style of field path in batch errors."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from certsvc.db.models import AccessEvent, AuditEvent, VerificationCount
from certsvc.db.work import VerificationReport
from tests.support.data import food_licence_body
from tests.support.service import Ent, Service, make_enterprise

# Headers that may differ between two answers to the same request.
VOLATILE = {"date", "content-length"}
# GETs whose body changes from one call to the next, so HEAD's Content-Length cannot equal GET's.
BODY_CHANGES = {
    "/metrics": "the counters move with every request",
    "/s/{token}/licences/{licence_id}.pdf": "HEAD spends no download and marks no copy: no Content-Length",
    "/verify/reports/{report_id}.pdf": "HEAD does not seal a report: no Content-Length before its first GET",
}
REPORT_LINK = re.compile(r'href="/verify/reports/([0-9a-f]{32})\.pdf"')


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def ent(service: Service) -> Ent:
    return make_enterprise(service)


@pytest.fixture(scope="module")
def params(service: Service, ent: Ent) -> dict[str, Any]:
    """Real values for the path parameters the routes take; a parameter not here is sent as ``x``."""
    c = service.client
    grant = c.post(
        "/api/v1/enterprise/grants",
        headers=ent.auth,
        json={"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"},
    )
    assert grant.status_code == 201, grant.text
    receipt = c.post(
        "/api/v1/receipts",
        headers=service.health.auth,
        json={
            "applicant_name": ent.name,
            "applicant_uscc": ent.uscc,
            "matter": "食品经营许可",
            "application_number": "SL2026-0042",
            "materials_received": ["申请书"],
            "materials_missing": [],
        },
    )
    assert receipt.status_code == 201, receipt.text
    show = c.post("/api/v1/enterprise/show", headers=ent.auth, json={"all_current": True, "expires_in_seconds": 600})
    assert show.status_code == 201, show.text
    checked = c.post("/verify/qr", data={"text": ent.food_licence["verify_url"]})
    report = REPORT_LINK.search(checked.text)
    assert checked.status_code == 200 and report, checked.text
    return {
        "report_id": report.group(1),
        "licence_id": ent.food_licence["id"],
        "receipt_id": receipt.json()["id"],
        "grant_id": grant.json()["id"],
        "uscc": ent.uscc,
        "name": "root",
        "/v/": _token(ent.food_licence["verify_url"]),
        "/s/": _token(grant.json()["share_url"]),
        "/r/": _token(receipt.json()["verify_url"]),
        "/l/": _token(show.json()["url"]),
    }


def _url(path: str, params: dict[str, Any]) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "token":
            return str(params[path[:3]])
        return str(params.get(name, "x"))

    return re.sub(r"\{([^}]+)\}", fill, path)


# Query parameters a GET needs to reach its effect (a look-up states its purpose).
QUERY = {"purpose": "核验"}


def _query(op: dict[str, Any]) -> str:
    wanted = [f"{p['name']}={QUERY[p['name']]}" for p in op.get("parameters", []) if p["name"] in QUERY]
    return "?" + "&".join(wanted) if wanted else ""


def _auth(op: dict[str, Any], service: Service, ent: Ent) -> dict[str, str]:
    for requirement in op.get("security", []):
        if "departmentKey" in requirement:
            return service.health.auth
        if "enterpriseToken" in requirement:
            return ent.auth
    return {}


def _effects(service: Service) -> dict[str, int]:
    """What a GET may leave behind: scans counted, audit events, access-log events, sealed reports."""
    service.ctx.scans.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        return {
            "scans": s.exec(select(func.coalesce(func.sum(VerificationCount.count), 0))).one(),
            "audit events": s.exec(select(func.count()).select_from(AuditEvent)).one(),
            "access events": s.exec(select(func.count()).select_from(AccessEvent)).one(),
            "sealed reports": s.exec(select(func.count()).where(col(VerificationReport.pdf_sha256).is_not(None))).one(),
        }


def test_head_answers_like_get_on_every_get_route(service: Service, ent: Ent, params: dict[str, Any]) -> None:
    c = service.client
    spec = c.get("/openapi.json").json()
    gets = [(path, item["get"]) for path, item in spec["paths"].items() if "get" in item]
    assert len(gets) >= 30
    calls = [(path, _url(path, params) + _query(op), _auth(op, service, ent)) for path, op in gets]
    before = _effects(service)
    reached = sum(c.head(url, headers=headers).status_code == 200 for _, url, headers in calls)
    assert _effects(service) == before  # a HEAD counts no scan, audits no access, seals no report
    assert reached >= 20
    problems, found = [], 0
    for path, url, headers in calls:
        head = c.head(url, headers=headers)  # again, next to its GET: earlier GETs change some lists
        get = c.get(url, headers=headers)
        found += get.status_code == 200
        if head.status_code != get.status_code:
            problems.append(f"HEAD {url}: {head.status_code}, GET {get.status_code}")
            continue
        if head.content:
            problems.append(f"HEAD {url}: a body of {len(head.content)} bytes")
        differ = {k for k in {*head.headers, *get.headers} - VOLATILE if head.headers.get(k) != get.headers.get(k)}
        if differ:
            problems.append(f"HEAD {url}: headers differ: {sorted(differ)}")
        if path not in BODY_CHANGES and head.headers.get("content-length") != str(len(get.content)):
            problems.append(f"HEAD {url}: Content-Length {head.headers.get('content-length')}, GET {len(get.content)}")
    assert not problems, "\n".join(problems)
    assert found >= 20  # most routes reached with real values, not just their 404s
    after = _effects(service)
    assert all(after[k] > before[k] for k in before), (before, after)  # the GETs reached every effect


def test_head_is_refused_where_get_is(service: Service, ent: Ent, params: dict[str, Any]) -> None:
    c = service.client
    spec = c.get("/openapi.json").json()
    guarded = [(path, op) for path, item in spec["paths"].items() if (op := item.get("get")) and op.get("security")]
    assert len(guarded) >= 10
    problems = []
    for path, op in guarded:
        url = _url(path, params) + _query(op)
        # no credential, and the other kind of credential (an enterprise's on a department's route)
        wrong = ent.auth if _auth(op, service, ent) == service.health.auth else service.health.auth
        for headers in ({}, wrong):
            head, get = c.head(url, headers=headers), c.get(url, headers=headers)
            differ = {k for k in {*head.headers, *get.headers} - {"date"} if head.headers.get(k) != get.headers.get(k)}
            if head.status_code != get.status_code or get.status_code < 400 or differ or head.content:
                problems.append(f"HEAD {url}: {head.status_code}, GET {get.status_code}, differ {sorted(differ)}")
    assert not problems, "\n".join(problems)


def test_head_on_healthz_is_200_without_a_body(service: Service) -> None:
    r = service.client.head("/healthz")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(service.client.get("/healthz").content)


def test_head_of_a_shared_download_spends_no_download(service: Service, ent: Ent) -> None:
    c = service.client
    grant = c.post(
        "/api/v1/enterprise/grants",
        headers=ent.auth,
        json={
            "licence_ids": [ent.food_licence["id"]],
            "grantee_name": "招商银行",
            "purpose": "授信",
            "max_downloads": 1,
        },
    ).json()
    url = f"/s/{_token(grant['share_url'])}/licences/{ent.food_licence['id']}.pdf"
    for _ in range(3):
        head = c.head(url)
        assert head.status_code == 200 and head.headers["content-type"] == "application/pdf"
        assert "attachment" in head.headers["content-disposition"]
    assert c.get(url).status_code == 200  # the one download is still there
    assert c.head(url).status_code == 410 and c.get(url).status_code == 410


def test_head_where_only_post_is_allowed_is_405(service: Service) -> None:
    assert service.client.head("/api/v1/verify").status_code == 405


def test_an_oversized_body_is_413_in_mebibytes(service: Service) -> None:
    limit = service.ctx.settings.max_upload_bytes + (1 << 20)  # the body cap: the upload limit and an envelope
    r = service.client.post(
        "/api/v1/verify/qr", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"]["message"] == "request body larger than 21 MiB"


def test_an_oversized_upload_is_413_in_the_readmes_units(service: Service) -> None:
    pdf = b"%PDF-1.7\n" + b"0" * service.ctx.settings.max_upload_bytes
    r = service.client.post("/api/v1/verify", files={"file": ("big.pdf", pdf, "application/pdf")})
    assert r.status_code == 413
    assert r.json()["error"]["message"] == "file larger than 20 MiB"


def test_a_look_up_without_purpose_is_422_naming_purpose(service: Service, ent: Ent) -> None:
    r = service.client.get(f"/api/v1/enterprises/{ent.uscc}/licences", headers=service.housing.auth)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid" and r.json()["error"]["field"] == "purpose"


def test_batch_errors_name_their_field_as_request_validation_does(service: Service) -> None:
    missing_name = food_licence_body()
    del missing_name["holder_name"]
    items = [
        food_licence_body(),
        missing_name,  # fails its model
        food_licence_body(holder_uscc="123"),  # fails the USCC check
        food_licence_body(fields={"经营场所": "x", "主体业态": "y", "不存在": "z"}),  # not a field of the type
        food_licence_body(licence_type="NOPE"),  # not a type of the department
    ]
    r = service.client.post("/api/v1/licences:batch", headers=service.health.auth, json={"items": items})
    assert r.status_code == 200, r.text
    errors = [x["error"] for x in r.json()["results"][1:]]
    assert [e["field"] for e in errors] == [
        "items.1.holder_name",
        "items.2.holder_uscc",
        "items.3.fields.不存在",
        "items.4.licence_type",
    ]
    assert all(e["code"] == "invalid" and e["message"].startswith(e["field"] + ": ") for e in errors), errors
    # the same path style as a body that fails request validation as a whole
    whole = service.client.post("/api/v1/licences:batch", headers=service.health.auth, json={"items": [1]})
    assert whole.status_code == 422 and whole.json()["error"]["field"] == "items.0"
