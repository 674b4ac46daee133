"""Share and live-code tokens kept sealed for their owner: under a random key in ``<data dir>/sealing-key``
(``v2:``), not one derived from the token PIN or key passphrase; values sealed the old way (``v1:``)
still read, and a value that cannot be read is a page that says so, never a 500."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi.testclient import TestClient
from sqlmodel import Session

from certsvc import sealed
from certsvc.core.config import Settings
from certsvc.db.models import Grant, LiveShow
from keys.passphrase import load_passphrase
from tests.support.service import Ent, Service, make_enterprise

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
GRANT_PURPOSE = b"certsvc share link tokens v1"  # the use the grants module seals share tokens for


def _v1(material: bytes, purpose: bytes, bound: str, secret: str) -> str:
    """A value sealed as before the key file: AES-GCM under HKDF(PIN + label, or the key passphrase)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)
    nonce = os.urandom(12)
    return "v1:" + base64.b64encode(nonce + AESGCM(key).encrypt(nonce, secret.encode(), bound.encode())).decode()


@pytest.fixture(scope="module")
def ent(service: Service) -> Ent:
    return make_enterprise(service)


@pytest.fixture(scope="module")
def portal(service: Service, ent: Ent) -> Iterator[TestClient]:
    """A client signed in to the enterprise's portal."""
    with TestClient(service.client.app, follow_redirects=False) as c:
        home = c.get("/portal")
        m = CSRF.search(home.text)
        assert m
        assert c.post("/portal/signin", data={"token": ent.token, "csrf": m.group(1)}).status_code == 303
        yield c


def _grant(service: Service, ent: Ent) -> dict:
    body = {"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
    r = service.client.post("/api/v1/enterprise/grants", headers=ent.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _show(service: Service, ent: Ent) -> str:
    r = service.client.post("/api/v1/enterprise/show", headers=ent.auth, json={"all_current": True})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@contextmanager
def _another_sealing_key(settings: Settings) -> Iterator[None]:
    """The data directory's sealing key replaced (a lost key file, a restore without it), then put back."""
    path = settings.data_dir / "sealing-key"
    kept = path.read_bytes()
    spare = path.with_name(".sealing-key.test")
    spare.write_bytes(os.urandom(32).hex().encode())
    os.replace(spare, path)
    try:
        yield
    finally:
        spare.write_bytes(kept)
        os.replace(spare, path)


def test_new_tokens_are_sealed_v2_under_a_private_random_key_file(service: Service, ent: Ent) -> None:
    grant, show_id = _grant(service, ent), _show(service, ent)
    with Session(service.ctx.engine) as s:
        g, show = s.get(Grant, grant["id"]), s.get(LiveShow, show_id)
        assert g is not None and show is not None
        assert g.token_sealed and g.token_sealed.startswith("v2:") and show.token_sealed.startswith("v2:")
    key = service.ctx.settings.data_dir / "sealing-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    # the token PIN / passphrase plays no part: another one still reads the v2 value
    other = dataclasses.replace(service.ctx.settings, key_backend="pkcs11", pkcs11_pin="0000", pkcs11_token_label="x")
    assert f"/s/{sealed.unseal(other, GRANT_PURPOSE, g.id, g.token_sealed)}" in grant["share_url"]


def test_a_token_sealed_v1_still_reads(service: Service, ent: Ent, portal: TestClient) -> None:
    grant = _grant(service, ent)
    token = grant["share_url"].rsplit("/", 1)[1]
    settings = service.ctx.settings
    material = load_passphrase(settings.key_passphrase, settings.key_passphrase_file)
    with Session(service.ctx.engine) as s:
        g = s.get(Grant, grant["id"])
        assert g is not None
        g.token_sealed = _v1(material, GRANT_PURPOSE, g.id, token)
        s.add(g)
        s.commit()
    page = portal.get(f"/portal/grants/{grant['id']}")
    assert page.status_code == 200 and grant["share_url"] in page.text
    # and one sealed under a token PIN and label, as the PKCS#11 backend did
    hsm = dataclasses.replace(settings, key_backend="pkcs11", pkcs11_pin="123456", pkcs11_token_label="certsvc")
    old = _v1(b"123456certsvc", GRANT_PURPOSE, "g1", "the token")
    assert sealed.unseal(hsm, GRANT_PURPOSE, "g1", old) == "the token"
    with pytest.raises(sealed.Unreadable):  # the PIN changed since
        sealed.unseal(dataclasses.replace(hsm, pkcs11_pin="654321"), GRANT_PURPOSE, "g1", old)


def test_a_token_the_key_cannot_read_is_said_on_the_page_not_a_500(
    service: Service, ent: Ent, portal: TestClient
) -> None:
    grant, show_id = _grant(service, ent), _show(service, ent)
    with _another_sealing_key(service.ctx.settings):
        page = portal.get(f"/portal/grants/{grant['id']}")
        assert page.status_code == 200, page.text
        assert "无法再次显示" in page.text and "cannot be shown again" in page.text
        assert grant["share_url"] not in page.text and 'id="share-qr"' not in page.text
        api = service.client.get(f"/api/v1/enterprise/grants/{grant['id']}/qr.png", headers=ent.auth)
        assert api.status_code == 404 and "cannot be shown again" in api.json()["error"]["message"]
        code = portal.get(f"/portal/show/{show_id}/qr.png")
        assert code.status_code == 410 and "text/html" in code.headers["content-type"]
    assert portal.get(f"/portal/grants/{grant['id']}").text.count(grant["share_url"]) >= 1  # the key is back


def test_a_v1_token_after_the_pin_changed_is_said_on_the_page_not_a_500(
    service: Service, ent: Ent, portal: TestClient
) -> None:
    grant = _grant(service, ent)
    with Session(service.ctx.engine) as s:
        g = s.get(Grant, grant["id"])
        assert g is not None
        g.token_sealed = _v1(b"the PIN before it was changed", GRANT_PURPOSE, g.id, "a token")
        s.add(g)
        s.commit()
    page = portal.get(f"/portal/grants/{grant['id']}")
    assert page.status_code == 200 and "cannot be shown again" in page.text
    api = service.client.get(f"/api/v1/enterprise/grants/{grant['id']}/qr.png", headers=ent.auth)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
