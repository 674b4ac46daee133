"""The formats for other software (SPEC "Keys for verifiers", "Status list"): the Token Status List
JWT read with an independent decoder written from draft-ietf-oauth-status-list and verified with a
JOSE library (joserfc) using the key from /.well-known/jwks.json; the JWKS; the trust list as a JWS
by the root; status-list indexes that reveal neither issuance order nor volume."""

from __future__ import annotations

import base64
import json
import time
import zlib

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from joserfc.jws import JWSRegistry

from certsvc.db.session import session_scope
from keys.ca import Subject
from signing.payload import unb64url
from tests.support.data import food_licence_body
from verify.trust import OwnerKind

JWT_MEDIA = "application/statuslist+jwt"


def draft_status(lst: str, bits: int, index: int) -> int:
    """The draft, section 4.1, read directly: base64url, ZLIB (RFC 1950), the status of ``index`` in
    bits ``index*bits % 8`` upwards of byte ``index*bits // 8``, least significant bit first."""
    data = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    byte = data[index * bits // 8]
    return (byte >> (index * bits % 8)) & ((1 << bits) - 1)


def draft_size(lst: str, bits: int) -> int:
    return len(zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))) * 8 // bits


def _cose(lic: dict) -> list:
    """The COSE_Sign1 of a licence's QR: upper-case base32 of a CWT (tag 61) around tag 18."""
    token = lic["verify_url"].rsplit("/", 1)[1]
    cwt_tag = cbor2.loads(base64.b32decode(token + "=" * (-len(token) % 8)))
    assert cwt_tag.tag == 61 and cwt_tag.value.tag == 18
    return cwt_tag.value.value


def qr_index(lic: dict) -> int:
    """The status-list index a licence's QR payload states (CWT claim 65535 ``status``)."""
    return int(cbor2.loads(_cose(lic)[2])[65535]["status_list"]["idx"])


def qr_kid(lic: dict) -> str:
    return cbor2.loads(_cose(lic)[0])[4].hex()


def jose_registry() -> JWSRegistry:
    reg = JWSRegistry(algorithms=["ES256"])
    reg.max_header_length = 8192  # the trust list's header carries the root certificate
    reg.max_payload_length = 64 * 1024 * 1024
    return reg


@pytest.fixture(scope="module")
def licences(service) -> dict[str, dict]:
    """A valid, a suspended, a revoked and an amended licence (its first version superseded)."""
    out = {kind: service.issue_food() for kind in ("valid", "suspended", "revoked", "amended")}
    auth = service.health.auth
    c = service.client
    assert c.post(
        f"/api/v1/licences/{out['suspended']['id']}/suspend", headers=auth, json={"reason": "整改"}
    ).is_success
    revoke = {"reason": "吊销", "kind": "吊销"}
    assert c.post(f"/api/v1/licences/{out['revoked']['id']}/revoke", headers=auth, json=revoke).is_success
    r = c.post(f"/api/v1/licences/{out['amended']['id']}/amend", headers=auth, json={"fields": {"经营项目": "糕点"}})
    assert r.status_code in (200, 201), r.text
    out["new_version"] = r.json()
    return out


def _jwt(service) -> str:
    r = service.client.get("/api/v1/status-list", headers={"Accept": JWT_MEDIA})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(JWT_MEDIA)
    return r.text


def test_status_list_jwt_verifies_with_the_key_from_the_jwks(service, licences) -> None:
    token = _jwt(service)
    keys = KeySet.import_key_set(service.client.get("/.well-known/jwks.json").json())
    decoded = jwt.decode(token, keys, algorithms=["ES256"], registry=jose_registry())
    assert decoded.header["typ"] == "statuslist+jwt" and decoded.header["alg"] == "ES256"
    claims = decoded.claims
    assert claims["sub"] == "http://testserver/api/v1/status-list"
    assert claims["iat"] <= time.time() < claims["exp"] and claims["ttl"] > 0
    jwt.JWTClaimsRegistry(sub={"essential": True}, iat={"essential": True}, exp={"essential": True}).validate(claims)
    assert claims["status_list"]["bits"] == 2


def test_status_list_jwt_read_as_the_draft_says_puts_each_status_on_its_licence(service, licences) -> None:
    lst = json.loads(unb64url(_jwt(service).split(".")[1]))["status_list"]["lst"]
    assert draft_status(lst, 2, qr_index(licences["valid"])) == 0
    assert draft_status(lst, 2, qr_index(licences["revoked"])) == 1
    assert draft_status(lst, 2, qr_index(licences["suspended"])) == 2
    assert draft_status(lst, 2, qr_index(licences["amended"])) == 3  # version 1, superseded
    assert draft_status(lst, 2, qr_index(licences["new_version"])) == 0


def test_status_list_json_carries_the_same_jwt_and_says_what_codes_mean(service, licences) -> None:
    body = service.client.get("/api/v1/status-list").json()
    assert body["payload"] == json.loads(unb64url(body["jws"].split(".")[1]))
    assert body["codes"] == {"0": "valid", "1": "revoked", "2": "suspended", "3": "superseded"}
    assert service.client.get("/status-list", headers={"Accept": JWT_MEDIA}).text.count(".") == 2


def test_jwks_has_every_department_and_service_key_with_its_certificate(service, licences) -> None:
    keys = service.client.get("/.well-known/jwks.json").json()["keys"]
    tl = service.client.get("/api/v1/trust-list").json()
    root = x509.load_pem_x509_certificate(tl["root"].encode())
    assert {k["kid"] for k in keys} == {i["kid"] for i in tl["issuers"]}  # departments and the service
    assert qr_kid(licences["valid"]) in {k["kid"] for k in keys}
    for k in keys:
        assert (k["kty"], k["crv"], k["use"], k["alg"]) == ("EC", "P-256", "sig", "ES256")
        assert "d" not in k
        cert = x509.load_der_x509_certificate(base64.b64decode(k["x5c"][0]))
        cert.verify_directly_issued_by(root)
        assert base64.b64decode(k["x5c"][1]) == root.public_bytes(Encoding.DER)
        assert ECKey.import_key(cert.public_key()).as_dict()["x"] == k["x"]


def test_jwks_keeps_a_rotated_key_for_the_licences_it_sealed(service, licences) -> None:
    before = qr_kid(licences["valid"])
    d = service.health
    with session_scope(service.ctx.engine) as s:
        new = service.ctx.keyring.issue(
            s, OwnerKind.DEPARTMENT, d.id, Subject(d.name, d.name, d.uscc, "电子证照专用章")
        )
    kids = {k["kid"] for k in service.client.get("/.well-known/jwks.json").json()["keys"]}
    assert {before, new.kid} <= kids
    assert qr_kid(service.issue_food()) == new.kid


def test_trust_list_jws_verifies_with_the_root_certificate(service) -> None:
    plain = service.client.get("/api/v1/trust-list").json()
    r = service.client.get("/api/v1/trust-list", headers={"Accept": "application/jwt"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/jwt")
    root = x509.load_pem_x509_certificate(plain["root"].encode())  # the root the verifier pins
    decoded = jwt.decode(r.text, ECKey.import_key(root.public_key()), algorithms=["ES256"], registry=jose_registry())
    assert base64.b64decode(decoded.header["x5c"][0]) == root.public_bytes(Encoding.DER)
    assert {k: v for k, v in decoded.claims.items() if k != "generated_at"} == {
        k: v for k, v in plain.items() if k != "generated_at"
    }


def test_status_indexes_reveal_neither_order_nor_volume(service) -> None:
    r = service.client.post(
        "/api/v1/licences:batch", headers=service.health.auth, json={"items": [food_licence_body() for _ in range(12)]}
    )
    assert r.status_code == 200, r.text
    indexes = [qr_index(item) for item in r.json()["results"]]
    assert len(set(indexes)) == 12
    assert indexes != sorted(indexes)  # 12 increasing by chance: 1 in 12!
    assert max(indexes) - min(indexes) > 12 * 1000  # spread over the block, not packed
    lst = json.loads(unb64url(_jwt(service).split(".")[1]))["status_list"]["lst"]
    assert draft_size(lst, 2) >= 1 << 20  # a list sized for a million, whatever the few issued here


def test_upgrade_keeps_indexes_printed_before_and_allocates_above_them(service, licences) -> None:
    """Migration 0006 on a database with licences: new indexes start above every existing one, and
    the statuses of licences issued before still land on their indexes."""
    from alembic import command
    from alembic.config import Config
    from sqlmodel import Session

    from certsvc.db.session import MIGRATIONS_DIR
    from certsvc.licences.status_index import scheme

    before = max(qr_index(lic) for lic in licences.values())
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = service.ctx.engine
    command.downgrade(cfg, "0006")
    command.upgrade(cfg, "head")
    with Session(service.ctx.engine) as s:
        assert scheme(s).base > before
    fresh = service.issue_food()
    assert qr_index(fresh) > before
    lst = json.loads(unb64url(_jwt(service).split(".")[1]))["status_list"]["lst"]
    assert draft_status(lst, 2, qr_index(licences["revoked"])) == 1
    assert draft_status(lst, 2, qr_index(fresh)) == 0


def test_status_list_representations_follow_accept_q_values_and_say_vary(service) -> None:
    refused = service.client.get(
        "/api/v1/status-list", headers={"Accept": "application/json, application/statuslist+jwt;q=0"}
    )
    assert refused.headers["content-type"].startswith("application/json") and refused.headers["vary"] == "Accept"
    jwt_ = service.client.get("/api/v1/status-list", headers={"Accept": "application/statuslist+jwt"})
    assert jwt_.headers["content-type"].startswith("application/statuslist+jwt") and jwt_.headers["vary"] == "Accept"
