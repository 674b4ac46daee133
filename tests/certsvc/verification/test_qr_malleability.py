"""QR tokens are not malleable: every re-encoding of a genuine token either finds the genuine licence
on every path or is malformed on every path; never ``not_issued_here`` (issue 11, finding 6).

The envelope of a COSE_Sign1 (and its base32 text) is not signed, so only the one encoding the service issues is read;
an ECDSA signature (r, s) has a twin (r, n − s) that is just as valid and that the signer could have
made itself, so both find the licence, by the identifier the payload names."""

from __future__ import annotations

import base64
from collections.abc import Callable

import cbor2
import pytest

from signing.payload import P256_ORDER, b32, b64url

JSON = {"Accept": "application/json"}


def _raw(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _parts(token: str) -> tuple[bytes, dict, bytes, bytes]:
    cwt = cbor2.loads(_raw(token))
    assert cwt.tag == 61 and cwt.value.tag == 18
    protected, unprotected, payload, sig = cwt.value.value
    return protected, unprotected, payload, sig


def _token_of(protected: bytes, unprotected: dict, payload: bytes, sig: bytes) -> str:
    return b32(cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, [protected, unprotected, payload, sig]))))


def other_s(token: str) -> str:
    """The same signature with s replaced by n − s: still a valid ES256 signature."""
    protected, unprotected, payload, sig = _parts(token)
    s = int.from_bytes(sig[32:], "big")
    twin = sig[:32] + (P256_ORDER - s).to_bytes(32, "big")
    return _token_of(protected, unprotected, payload, twin)


def untagged(token: str) -> str:
    return b32(cbor2.dumps(list(_parts(token))))


def without_cwt_tag(token: str) -> str:
    """The COSE_Sign1 alone (tag 18), in base32: the CWT layout must keep its marker."""
    return b32(cbor2.dumps(cbor2.CBORTag(18, list(_parts(token)))))


def as_base64url(token: str) -> str:
    """The same bytes in the earlier layout's alphabet."""
    return b64url(_raw(token))


def appended_byte(token: str) -> str:
    return b32(_raw(token) + b"\x00")


def unprotected_header(token: str) -> str:
    protected, _unprotected, payload, sig = _parts(token)
    return _token_of(protected, {4: b"12345678"}, payload, sig)


def long_length(token: str) -> str:
    """The signature's byte string with its length written in two bytes instead of one (not canonical)."""
    protected, unprotected, payload, sig = _parts(token)
    head = cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, [protected, unprotected, payload])))
    assert head[:3] == b"\xd8\x3d\xd2" and head[3] == 0x83  # tag 61, tag 18, an array of 3
    body = head[:3] + b"\x84" + head[4:]  # … of 4, the signature following as a 2-byte-length byte string
    return b32(body + b"\x59\x00\x40" + sig)


def stray_bits(token: str) -> str:
    """The last base32 character changed in bits that decoding drops: the same bytes, other text."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    unused = {2: 2, 4: 4, 5: 1, 7: 3}.get(len(token) % 8, 0)
    if not unused:
        pytest.skip("this token's length leaves no unused bits")
    i = alphabet.index(token[-1])
    return token[:-1] + alphabet[i ^ 1]


MALLEATIONS: list[tuple[Callable[[str], str], bool]] = [
    (other_s, True),
    (untagged, False),
    (without_cwt_tag, False),
    (as_base64url, False),
    (appended_byte, False),
    (unprotected_header, False),
    (long_length, False),
    (stray_bits, False),
]


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.mark.parametrize(("malleate", "finds"), MALLEATIONS, ids=[m.__name__ for m, _ in MALLEATIONS])
def test_verify_qr_and_the_page_agree_on_a_malleated_licence_token(service, issue_food, malleate, finds) -> None:
    lic = issue_food()
    token = _token(lic["verify_url"])
    changed = malleate(token)
    assert changed != token
    assert malleate in (stray_bits, as_base64url) or _raw(changed) != _raw(token)

    qr = service.client.post("/api/v1/verify/qr", json={"text": f"http://testserver/v/{changed}"}).json()
    page = service.client.get(f"/v/{changed}", headers=JSON)
    assert qr["verdict"] != "not_issued_here", qr
    if finds:
        assert qr["verdict"] == "genuine", qr
        assert qr["licence"]["number"] == lic["number"]
        assert page.status_code == 200
        assert page.json()["number"] == lic["number"]
    else:
        assert qr["verdict"] == "malformed", qr
        assert page.status_code == 404


def test_the_genuine_token_still_finds_its_licence_everywhere(service, issue_food) -> None:
    lic = issue_food()
    qr = service.client.post("/api/v1/verify/qr", json={"text": lic["verify_url"]}).json()
    assert qr["verdict"] == "genuine" and qr["licence"]["number"] == lic["number"]
    assert service.client.get(f"/v/{_token(lic['verify_url'])}", headers=JSON).json()["number"] == lic["number"]


def test_a_superseded_version_is_found_by_its_own_identifier(service, issue_food) -> None:
    lic = issue_food()
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/amend", headers=service.health.auth, json={"fields": {"经营项目": "预包装食品"}}
    )
    assert r.status_code == 200, r.text
    old = other_s(_token(lic["verify_url"]))
    qr = service.client.post("/api/v1/verify/qr", json={"text": old}).json()
    assert qr["verdict"] == "genuine"
    assert (qr["licence"]["version"], qr["licence"]["status"]) == (1, "superseded")
    page = service.client.get(f"/v/{old}", headers=JSON).json()
    assert (page["version"], page["status"]) == (1, "superseded")


def test_another_licences_signature_does_not_find_this_licence(service, issue_food) -> None:
    """The page decodes without checking the signature: the token's signature must be the issued one."""
    a, b = issue_food(), issue_food()
    pa, ua, payload_a, _sig_a = _parts(_token(a["verify_url"]))
    _pb, _ub, _payload_b, sig_b = _parts(_token(b["verify_url"]))
    forged = _token_of(pa, ua, payload_a, sig_b)
    assert service.client.get(f"/v/{forged}", headers=JSON).status_code == 404
    assert service.client.post("/api/v1/verify/qr", json={"text": forged}).json()["verdict"] == "signature_invalid"


@pytest.mark.parametrize(("malleate", "finds"), [(other_s, True), (untagged, False), (appended_byte, False)])
def test_receipt_tokens_agree_too(service, malleate, finds) -> None:
    body = {"applicant_name": "深圳市鹏城餐饮管理有限公司", "matter": "食品经营许可", "application_number": "2026-7"}
    rec = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body).json()
    changed = malleate(_token(rec["verify_url"]))
    qr = service.client.post("/api/v1/verify/qr", json={"text": f"http://testserver/r/{changed}"}).json()
    page = service.client.get(f"/r/{changed}", headers=JSON)
    assert qr["verdict"] == ("genuine" if finds else "malformed"), qr
    assert page.status_code == (200 if finds else 404)
    if finds:
        assert qr["receipt"]["id"] == rec["id"] == page.json()["id"]
