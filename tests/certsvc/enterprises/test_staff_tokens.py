"""Staff tokens (SPEC "Lists, registers and credentials"): the legal representative's token (the one
from activation) gives staff scoped, expiring, revocable tokens; a token is refused (403, naming the
scope) outside its scopes; expired and revoked tokens get 401 saying why, with ``WWW-Authenticate``."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from certsvc.db.models import ApiCredential, AuditEvent, utcnow
from tests.support.data import food_licence_body
from tests.support.service import Ent, Service, make_enterprise

ALL = ["licences:read", "grants:write", "sign", "commitments:write", "filings:write"]


@pytest.fixture(scope="module")
def holder(service: Service) -> Ent:
    """One activated enterprise for the module: its token is the legal representative's."""
    return make_enterprise(service)


def staff(service: Service, holder: Ent, scopes: list[str], **over: object) -> dict:
    body = {"name": "张三 办事人", "scopes": scopes, "expires_in_days": 30, **over}
    r = service.client.post("/api/v1/enterprise/tokens", headers=holder.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def grant_body(holder: Ent) -> dict:
    return {"licence_ids": [holder.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}


def test_the_legal_representative_makes_a_staff_token_shown_once(service, holder) -> None:
    made = staff(service, holder, ["licences:read"])
    assert made["token"].startswith("cse_")
    assert made["scopes"] == ["licences:read"] and made["state"] == "active"
    listed = service.client.get("/api/v1/enterprise/tokens", headers=holder.auth)
    assert listed.status_code == 200
    body = listed.json()
    assert body["next_cursor"] is None
    assert made["id"] in [t["id"] for t in body["items"]]
    assert made["token"] not in listed.text and "token" not in body["items"][0]
    with Session(service.ctx.engine) as s:
        stored = s.get(ApiCredential, made["id"])
        assert stored is not None and made["token"] not in stored.secret_hash  # kept as a hash only


def test_the_token_list_pages_with_a_cursor(service, holder) -> None:
    for _ in range(3):
        staff(service, holder, ["sign"])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = service.client.get("/api/v1/enterprise/tokens", headers=holder.auth, params=params).json()
        assert len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 4 and seen == sorted(seen, reverse=True)


def test_a_staff_token_with_licences_read_reads_the_licences(service, holder) -> None:
    token = staff(service, holder, ["licences:read"])["token"]
    r = service.client.get("/api/v1/enterprise/licences", headers=bearer(token))
    assert r.status_code == 200
    assert holder.food_licence["id"] in [i["id"] for i in r.json()["items"]]


def test_a_staff_token_with_licences_read_gets_403_on_creating_a_grant(service, holder) -> None:
    made = staff(service, holder, ["licences:read"])
    r = service.client.post("/api/v1/enterprise/grants", headers=bearer(made["token"]), json=grant_body(holder))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "grants:write" in r.json()["error"]["message"]
    service.ctx.denials.flush(service.ctx.engine)
    with Session(service.ctx.engine) as s:
        denied = s.exec(select(AuditEvent).where(AuditEvent.action == "denied.scope")).all()
    assert any(e.subject_id == str(made["id"]) and "grants:write" in e.details["reason"] for e in denied)


def test_a_staff_token_with_grants_write_creates_a_grant(service, holder) -> None:
    token = staff(service, holder, ["grants:write"])["token"]
    r = service.client.post("/api/v1/enterprise/grants", headers=bearer(token), json=grant_body(holder))
    assert r.status_code == 201, r.text


# Each enterprise route and the scope it needs: a token with every other scope is refused with 403.
ROUTES = [
    ("get", "/api/v1/enterprise/licences", "licences:read"),
    ("get", "/api/v1/enterprise/receipts", "licences:read"),
    ("get", "/api/v1/enterprise/grants", "licences:read"),
    ("get", "/api/v1/enterprise/access-log", "licences:read"),
    ("get", "/api/v1/enterprise/commitments", "licences:read"),
    ("post", "/api/v1/enterprise/grants", "grants:write"),
    ("delete", "/api/v1/enterprise/grants/nosuchgrant", "grants:write"),
    ("get", "/api/v1/enterprise/grants/nosuchgrant/qr.png", "grants:write"),  # the QR is the share link
    ("post", "/api/v1/enterprise/sign", "sign"),
    ("post", "/api/v1/enterprise/commitments", "commitments:write"),
    ("post", "/api/v1/enterprise/filings", "filings:write"),
]


@pytest.fixture(scope="module")
def lacking(service: Service, holder: Ent) -> dict[str, str]:
    """For each scope, a token with every scope but that one."""
    return {scope: staff(service, holder, [s for s in ALL if s != scope])["token"] for scope in ALL}


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_enterprise_route_needs_its_scope(service, lacking, method, path, scope) -> None:
    r = service.client.request(method, path, headers=bearer(lacking[scope]))
    assert r.status_code == 403, r.text
    assert repr(scope) in r.json()["error"]["message"]


def test_a_staff_token_cannot_manage_tokens(service, holder) -> None:
    token = staff(service, holder, ALL)["token"]
    for method, path in (("get", "/api/v1/enterprise/tokens"), ("post", "/api/v1/enterprise/tokens")):
        r = service.client.request(method, path, headers=bearer(token), json={"name": "x", "scopes": ALL})
        assert r.status_code == 403
        assert "legal representative" in r.json()["error"]["message"]


def test_a_revoked_staff_token_is_401_saying_so(service, holder) -> None:
    made = staff(service, holder, ["licences:read"])
    r = service.client.delete(f"/api/v1/enterprise/tokens/{made['id']}", headers=holder.auth)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = service.client.get("/api/v1/enterprise/licences", headers=bearer(made["token"]))
    assert r.status_code == 401
    assert "revoked on" in r.json()["error"]["message"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert "revoked on" in r.headers["www-authenticate"]


def test_an_expired_staff_token_is_401_saying_when_it_expired(service, holder) -> None:
    made = staff(service, holder, ["licences:read"], expires_in_days=1)
    assert service.client.get("/api/v1/enterprise/licences", headers=bearer(made["token"])).status_code == 200
    with Session(service.ctx.engine) as s:  # a day later
        cred = s.get(ApiCredential, made["id"])
        assert cred is not None
        cred.expires_at = utcnow() - timedelta(seconds=1)
        s.add(cred)
        s.commit()
    r = service.client.get("/api/v1/enterprise/licences", headers=bearer(made["token"]))
    assert r.status_code == 401
    assert "expired on" in r.json()["error"]["message"]
    listed = service.client.get("/api/v1/enterprise/tokens", headers=holder.auth).json()["items"]
    assert next(t for t in listed if t["id"] == made["id"])["state"] == "expired"


def test_the_legal_representatives_token_is_not_revoked_through_the_api(service, holder) -> None:
    items = service.client.get("/api/v1/enterprise/tokens", headers=holder.auth).json()["items"]
    own = next(t for t in items if t["legal_representative"])
    r = service.client.delete(f"/api/v1/enterprise/tokens/{own['id']}", headers=holder.auth)
    assert r.status_code == 409
    assert "reissue" in r.json()["error"]["message"]


def test_an_unknown_scope_is_422_naming_the_field(service, holder) -> None:
    r = service.client.post(
        "/api/v1/enterprise/tokens", headers=holder.auth, json={"name": "x", "scopes": ["licences:read", "admin"]}
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "scopes.1"


def test_another_enterprises_token_is_404(service, holder) -> None:
    made = staff(service, holder, ["licences:read"])
    other = make_enterprise(service, "深圳市另一家有限公司")
    r = service.client.delete(f"/api/v1/enterprise/tokens/{made['id']}", headers=other.auth)
    assert r.status_code == 404


def test_a_staff_token_does_not_sign_in_to_the_portal(service, holder) -> None:
    from certsvc.enterprises.sessions import sign_in
    from certsvc.errors import Unauthorized

    token = staff(service, holder, ALL)["token"]
    with Session(service.ctx.engine) as s, pytest.raises(Unauthorized, match="staff token") as refused:
        sign_in(s, token)
    assert refused.value.denial is not None  # recorded as a denied attempt, like any refused sign-in


def test_a_token_id_too_large_for_the_database_is_422(service, holder) -> None:
    r = service.client.delete(f"/api/v1/enterprise/tokens/{2**31}", headers=holder.auth)  # past an INTEGER
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "token_id"


def test_a_cursor_past_what_the_id_column_holds_is_422(service, holder) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(["tokens", 2**31]).encode()).rstrip(b"=").decode()
    r = service.client.get("/api/v1/enterprise/tokens", headers=holder.auth, params={"cursor": cursor})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "cursor"


def test_a_401_without_a_token_names_the_realm_only(service) -> None:
    r = service.client.get("/api/v1/enterprise/licences")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="certsvc"'


def test_a_401_for_an_unknown_token_says_invalid_token(service) -> None:
    r = service.client.get("/api/v1/licence-types", headers=bearer("csd_000000000000_nope"))
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="certsvc", error="invalid_token", error_description="unknown')


def test_token_changes_are_audited(service, holder) -> None:
    made = staff(service, holder, ["sign"])
    service.client.delete(f"/api/v1/enterprise/tokens/{made['id']}", headers=holder.auth)
    with Session(service.ctx.engine) as s:
        actions = s.exec(
            select(AuditEvent.action).where(AuditEvent.subject_id == str(made["id"])).order_by(col(AuditEvent.id))
        ).all()
    assert list(actions) == ["enterprise.token.create", "enterprise.token.revoke"]


def test_revoking_the_business_licence_ends_the_staff_tokens(service) -> None:
    ended = make_enterprise(service, "深圳市将被吊销有限公司")
    token = staff(service, ended, ["licences:read"])["token"]
    r = service.client.post(
        f"/api/v1/licences/{ended.business_licence['id']}/revoke", headers=service.market.auth, json={"reason": "吊销"}
    )
    assert r.status_code == 200, r.text
    r = service.client.get("/api/v1/enterprise/licences", headers=bearer(token))
    assert r.status_code == 401
    assert "business licence was revoked" in r.json()["error"]["message"]
    # the reason in the challenge too, in the ASCII an RFC 6750 error_description allows
    assert "business licence was revoked (20" in r.headers["www-authenticate"]


def test_a_staff_token_with_licences_read_cannot_issue_anything(service, holder) -> None:
    """An enterprise token of any scope is not a department key."""
    token = staff(service, holder, ALL)["token"]
    r = service.client.post("/api/v1/licences", headers=bearer(token), json=food_licence_body())
    assert r.status_code == 401
