"""The QR payload is a CWT (RFC 8392) in a COSE_Sign1 (ES256) that a standard CWT library
(python-cwt) decodes and verifies with the department's public key; its registered claims mean
what RFC 8392 says; QR codes printed before the CWT layout keep verifying."""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta, timezone

import cbor2
import cwt
import pytest
from cwt import COSEKey
from sqlalchemy import update
from sqlmodel import Session, col

from certsvc.db.models import LicenceVersion
from certsvc.security import token_key
from signing.payload import Claims, b64url, parse_signed

CST = timezone(timedelta(hours=8))
JSON = {"Accept": "application/json"}


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _cwt_bytes(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _department_key(service, token: str) -> COSEKey:
    """The signer's public key as a COSE key, from ``/.well-known/jwks.json`` by the token's kid
    (published as hex)."""
    kid = parse_signed(token).kid
    jwks = service.client.get("/.well-known/jwks.json").json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid.hex())
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    coord = {name: base64.urlsafe_b64decode(jwk[name] + "=" * (-len(jwk[name]) % 4)) for name in ("x", "y")}
    return COSEKey.new({1: 2, 2: kid, 3: -7, -1: 1, -2: coord["x"], -3: coord["y"]})  # EC2, P-256, ES256


@pytest.fixture(scope="module")
def licence(service) -> dict:
    return service.issue_food(valid_from="2026-01-05", valid_until="2031-01-04")


def test_python_cwt_verifies_the_payload_with_the_departments_key(service, licence) -> None:
    token = _token(licence["verify_url"])
    claims = cwt.decode(_cwt_bytes(token), _department_key(service, token))
    assert claims[1] == service.health.uscc  # iss: the issuing department
    assert claims[-1] == "L" and claims[-4] == "SPJY" and claims[-5] == 1
    assert claims[-3] == licence["holder_uscc"]


def test_a_changed_claim_fails_python_cwt(service, licence) -> None:
    token = _token(licence["verify_url"])
    tag = cbor2.loads(_cwt_bytes(token))
    protected, unprotected, payload, sig = tag.value.value
    changed = cbor2.loads(payload)
    changed[-3] = "91440300MA5XXXXXXX"
    forged = cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(changed), sig])))
    with pytest.raises(cwt.VerifyError):
        cwt.decode(forged, _department_key(service, token))


def test_nbf_and_exp_bound_the_validity_in_china_time(licence) -> None:
    claims = cbor2.loads(cbor2.loads(_cwt_bytes(_token(licence["verify_url"]))).value.value[2])
    assert claims[5] == datetime.combine(date(2026, 1, 5), time.min, CST).timestamp()
    assert claims[4] == datetime.combine(date(2031, 1, 5), time.min, CST).timestamp()  # the first moment after
    assert abs(claims[6] - datetime.fromisoformat(licence["issued_at"]).timestamp()) < 60  # iat: when sealed


def test_python_cwt_refuses_an_expired_licence_and_one_not_yet_valid(service) -> None:
    today = date.today()
    expired = service.issue_food(valid_from=str(today - timedelta(days=30)), valid_until=str(today - timedelta(days=2)))
    future = service.issue_food(valid_from=str(today + timedelta(days=3)), valid_until=str(today + timedelta(days=400)))
    for lic, message in ((expired, "expired"), (future, "not yet valid")):
        token = _token(lic["verify_url"])
        with pytest.raises(cwt.VerifyError, match=message):
            cwt.decode(_cwt_bytes(token), _department_key(service, token))


def test_status_claim_names_the_index_and_the_status_list(service, licence) -> None:
    token = _token(licence["verify_url"])
    claims = cwt.decode(_cwt_bytes(token), _department_key(service, token))
    status = claims[65535]["status_list"]
    assert status["uri"] == "http://testserver/api/v1/status-list"
    assert status["idx"] == parse_signed(token).claims.status_index
    assert service.client.get(status["uri"].removeprefix("http://testserver")).status_code == 200


def test_verify_qr_reports_the_cwt_claims(service, licence) -> None:
    body = service.client.post("/api/v1/verify/qr", json={"text": licence["verify_url"]}).json()
    assert body["verdict"] == "genuine"
    assert body["claims"]["identifier"] == licence["identifier"]
    assert body["claims"]["issuer"] == service.health.uscc
    assert body["claims"]["status_list_uri"] == "http://testserver/api/v1/status-list"
    assert (body["claims"]["valid_from"], body["claims"]["valid_until"]) == ("2026-01-05", "2031-01-04")


def test_receipt_payload_is_a_cwt_without_status(service) -> None:
    body = {"applicant_name": "深圳市鹏城餐饮管理有限公司", "matter": "食品经营许可", "application_number": "2026-9"}
    rec = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body).json()
    token = _token(rec["verify_url"])
    claims = cwt.decode(_cwt_bytes(token), _department_key(service, token))
    assert claims[-1] == "R" and 65535 not in claims and 4 not in claims


def _legacy_token(service, lic: dict) -> str:
    """The QR token as issued before the CWT layout (claims keyed 0–9, tag 18, base64url), signed
    with the department's key: what licences printed earlier carry."""
    signed = parse_signed(_token(lic["verify_url"]))
    c = signed.claims
    legacy = Claims(
        c.kind, c.identifier, c.holder_uscc, c.type_code, c.valid_from, c.valid_until, 1, b"\1" * 8, c.status_index
    )
    payload = cbor2.dumps(
        {0: "L", 1: c.identifier.removeprefix("1.2.156.3005.2."), 2: c.holder_uscc, 3: c.type_code}
        | {4: 20260105, 5: 20310104, 6: 1, 7: b"\1" * 8, 9: c.status_index},
        canonical=True,
    )
    assert payload == legacy.to_cbor()  # written out by hand above: the layout, not the code, is the reference
    with Session(service.ctx.engine) as s:
        info = service.ctx.keyring.by_kid(s, signed.kid.hex())
    der = service.ctx.keyring.sign_raw(info, cbor2.dumps(["Signature1", signed.protected, b"", payload]))
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s_ = decode_dss_signature(der)
    sig = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
    return b64url(cbor2.dumps(cbor2.CBORTag(18, [signed.protected, {}, payload, sig])))


def test_a_licence_printed_before_the_cwt_layout_still_verifies(service) -> None:
    lic = service.issue_food(valid_from="2026-01-05", valid_until="2031-01-04")
    old = _legacy_token(service, lic)
    with Session(service.ctx.engine) as s:  # the licence as the service recorded it back then
        s.exec(
            update(LicenceVersion)
            .where(col(LicenceVersion.identifier) == lic["identifier"])
            .values(qr_payload=old, qr_token=token_key(old))
        )
        s.commit()
    qr = service.client.post("/api/v1/verify/qr", json={"text": f"http://testserver/v/{old}"}).json()
    assert qr["verdict"] == "genuine", qr
    assert qr["licence"]["number"] == lic["number"]
    assert qr["claims"]["status_index"] == parse_signed(_token(lic["verify_url"])).claims.status_index
    assert "issuer" not in qr["claims"]
    page = service.client.get(f"/v/{old}", headers=JSON)
    assert page.status_code == 200 and page.json()["number"] == lic["number"]


def test_the_earlier_layout_in_base32_is_not_read() -> None:
    """The alphabet and the CWT tag decide the layout: old claims in a base32 token are malformed."""
    from signing.payload import PayloadError, b32

    payload = cbor2.dumps({0: "L", 1: "X", 3: "SPJY", 6: 1, 7: b"\0" * 8}, canonical=True)
    protected = cbor2.dumps({1: -7, 4: b"12345678"}, canonical=True)
    sign1 = cbor2.CBORTag(18, [protected, {}, payload, b"\1" * 64])
    with pytest.raises(PayloadError):
        parse_signed(b32(cbor2.dumps(cbor2.CBORTag(61, sign1))))
    with pytest.raises(PayloadError):
        parse_signed(b32(cbor2.dumps(sign1)))


def test_a_payload_naming_another_department_as_issuer_is_not_genuine(service, licence) -> None:
    """Signed with the health department's key, but ``iss`` says the housing department: the key
    that signed is not the issuer the payload names."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from signing.payload import b32

    token = _token(licence["verify_url"])
    signed = parse_signed(token)
    claims = cbor2.loads(cbor2.loads(_cwt_bytes(token)).value.value[2])
    claims[1] = service.housing.uscc
    payload = cbor2.dumps(claims, canonical=True)
    with Session(service.ctx.engine) as s:
        info = service.ctx.keyring.by_kid(s, signed.kid.hex())
    der = service.ctx.keyring.sign_raw(info, cbor2.dumps(["Signature1", signed.protected, b"", payload]))
    r, s_ = decode_dss_signature(der)
    sig1 = cbor2.CBORTag(18, [signed.protected, {}, payload, r.to_bytes(32, "big") + s_.to_bytes(32, "big")])
    forged = b32(cbor2.dumps(cbor2.CBORTag(61, sig1)))
    qr = service.client.post("/api/v1/verify/qr", json={"text": f"http://testserver/v/{forged}"}).json()
    assert qr["verdict"] == "signature_invalid", qr
    assert any(c["name"] == "issuer_is_signer" and not c["ok"] for c in qr["checks"]), qr["checks"]
