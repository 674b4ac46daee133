"""Issuing licences with the seal keys in a PKCS#11 token (SoftHSM2): the whole app, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department
from keys.pkcs11 import Pkcs11KeyBackend
from tests.support.data import business_licence_body, random_uscc
from tests.support.pdfcheck import signature_status
from tests.support.pkcs11 import Token
from tests.support.standalone import Standalone, standalone_service

pytestmark = pytest.mark.pkcs11


@pytest.fixture(scope="module")
def hsm_token(new_token) -> Token:
    return new_token("e2e")


@pytest.fixture(scope="module")
def hsm_service(hsm_token: Token, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_service(
        tmp_path_factory.mktemp("certsvc-hsm"),
        CERTSVC_PKCS11_MODULE=hsm_token.module,
        CERTSVC_PKCS11_TOKEN_LABEL=hsm_token.label,
        CERTSVC_PKCS11_PIN=hsm_token.pin,
    ) as svc:
        yield svc


def test_settings_select_the_pkcs11_backend(hsm_service: Standalone, hsm_token: Token) -> None:
    backend = hsm_service.ctx.key_backend
    assert isinstance(backend, Pkcs11KeyBackend)
    assert backend.token_label == hsm_token.label
    assert hsm_service.ctx.settings.key_backend == "pkcs11"


def test_issued_licence_is_sealed_by_a_key_in_the_token(hsm_service: Standalone) -> None:
    body = hsm_service.issue()
    assert body["status"] == "valid"
    pdf = hsm_service.pdf(body)
    hsm_service.assert_valid_seal(pdf)
    verify_path = body["verify_url"].removeprefix("http://testserver")
    r = hsm_service.client.get(verify_path, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


def test_keys_live_only_in_the_token(hsm_service: Standalone) -> None:
    ctx = hsm_service.ctx
    with session_scope(ctx.engine) as s:
        labels = [info.key_label for info in ctx.keyring.all(s)]
    assert len(labels) >= 3, labels  # root, service seal, the department's seal
    for label in labels:
        assert ctx.key_backend.has(label), label
    keys_dir: Path = ctx.settings.keys_dir
    assert not keys_dir.exists() or not list(keys_dir.glob("*.p8.pem"))


def test_many_issuances_use_one_session(hsm_service: Standalone) -> None:
    backend = hsm_service.ctx.key_backend
    assert isinstance(backend, Pkcs11KeyBackend)
    hsm_service.issue()
    opened = backend.sessions_opened
    for _ in range(5):
        hsm_service.issue()
    assert backend.sessions_opened == opened


def test_healthz_checks_the_token(hsm_service: Standalone) -> None:
    r = hsm_service.client.get("/healthz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["key_backend"] == "ok"


def test_an_enterprise_signs_with_its_key_in_the_token(hsm_service: Standalone) -> None:
    """The upload is read in an analysis worker that never holds the key; the token signs the digest."""
    ctx, client = hsm_service.ctx, hsm_service.client
    with session_scope(ctx.engine) as s:
        market = add_department(
            s, ctx.keyring, name="深圳市市场监督管理局", uscc=random_uscc("11440300"), code="SZSJ", registrar=True
        )
        market_auth = {"Authorization": f"Bearer {market.api_key}"}
    uscc = random_uscc()
    bl = client.post("/api/v1/licences", headers=market_auth, json=business_licence_body(uscc))
    assert bl.status_code == 201, bl.text
    r = client.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": bl.json()["activation_code"]})
    ent_auth = {"Authorization": f"Bearer {r.json()['token']}"}
    buf = BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "Commitment letter")
    page.save()
    signed = client.post(
        "/api/v1/enterprise/sign", headers=ent_auth, files={"file": ("l.pdf", buf.getvalue(), "application/pdf")}
    )
    assert signed.status_code == 200, signed.text
    _sig, status = signature_status(ctx, signed.content)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
