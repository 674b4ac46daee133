"""The portal's signing page without a browser (TestClient): the form, the signed download, what it
refuses and how it says so, and its bounds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.placement import MARGIN
from tests.support.documents import plain_pdf
from tests.support.service import Ent, Service, make_enterprise

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@pytest.fixture(scope="module")
def portal(service: Service) -> Iterator[tuple[TestClient, Ent, str]]:
    """A client signed in to the portal; (client, enterprise, the signing form's CSRF token)."""
    ent = make_enterprise(service, "深圳市签章测试有限公司")
    with TestClient(service.client.app, follow_redirects=False) as c:
        home = c.get("/portal")
        r = c.post("/portal/signin", data={"token": ent.token, "csrf": CSRF.search(home.text).group(1)})
        assert r.status_code == 303
        page = c.get("/portal/sign")
        assert page.status_code == 200
        yield c, ent, CSRF.search(page.text).group(1)


def _post(c: TestClient, csrf: str | None, pdf: bytes = b"", name: str = "报价单.pdf", **form: str):
    data = {"csrf": csrf, **form} if csrf is not None else dict(form)
    return c.post("/portal/sign", data=data, files={"file": (name, pdf or plain_pdf(), "application/pdf")})


def test_the_page_offers_the_file_page_position_reason_and_location(portal) -> None:
    c, _ent, _csrf = portal
    html = c.get("/portal/sign").text
    assert 'enctype="multipart/form-data"' in html and 'action="/portal/sign"' in html
    for name in ("file", "page", "position", "x", "y", "reason", "location"):
        assert f'name="{name}"' in html
    for choice in ("右下角", "左下角", "自定义位置"):
        assert choice in html
    assert 'href="/portal/sign" aria-current="page"' in html


def test_signing_downloads_the_pdf_signed_where_chosen_and_named_after_the_upload(portal) -> None:
    c, ent, csrf = portal
    r = _post(c, csrf, position="bottom-left", reason="确认报价", location="深圳")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    name = unquote(re.search(r"filename\*=UTF-8''(\S+)", r.headers["content-disposition"]).group(1))
    assert name == "报价单-signed.pdf"
    [sig] = PdfFileReader(BytesIO(r.content)).embedded_signatures
    assert sig.sig_object["/Reason"] == "确认报价" and sig.sig_object["/Location"] == "深圳"
    rect = [float(v) for v in sig.sig_field["/Rect"]]
    assert rect[:2] == pytest.approx([MARGIN, MARGIN], abs=1)
    assert ent.name in sig.signer_cert.subject.human_friendly


def test_a_custom_position_uses_x_and_y_in_mm(portal) -> None:
    c, _ent, csrf = portal
    r = _post(c, csrf, position="custom", x="105", y="148.5")
    assert r.status_code == 200, r.text
    [sig] = PdfFileReader(BytesIO(r.content)).embedded_signatures
    x1, _y1, x2, _y2 = (float(v) for v in sig.sig_field["/Rect"])
    assert (x1 + x2) / 2 == pytest.approx(105 * 72 / 25.4, abs=1)


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"page": "4"}, "页码有误 · page: the PDF has 1 page; there is no page 4"),
        ({"page": "二"}, "页码有误 · page: enter a whole number"),
        ({"position": "custom", "x": "100"}, "纵向位置有误 · y: a custom position needs both x and y"),
        ({"position": "custom", "x": "500", "y": "100"}, "横向位置有误 · x: a seal"),
    ],
)
def test_a_problem_shows_the_form_again_saying_what_to_fix(portal, form, words) -> None:
    c, _ent, csrf = portal
    r = _post(c, csrf, **form)
    assert r.status_code == 422, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert words in r.text.replace("&#39;", "'")
    for value in form.values():
        assert f'value="{value}"' in r.text or value in ("custom",)  # what was typed stays in the form


def test_a_file_that_is_not_a_pdf_is_refused_on_the_page(portal) -> None:
    c, _ent, csrf = portal
    r = _post(c, csrf, pdf=b"hello, not a pdf")
    assert r.status_code == 422 and "文件无法签章 · file:" in r.text


def test_without_the_csrf_token_nothing_is_signed(portal) -> None:
    c, _ent, _csrf = portal
    r = _post(c, None)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")


def test_an_upload_over_the_limit_is_refused_before_it_is_read(portal, service) -> None:
    """A declared length over the upload limit (plus room for the form's other fields) gets the page's 413."""
    c, _ent, csrf = portal
    limit = service.ctx.settings.max_upload_bytes
    r = c.post(
        "/portal/sign",
        content=b"x" * 16,
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": str(limit + (128 << 10))},
    )
    assert r.status_code == 413 and "MB" in r.text


def test_signed_out_the_page_sends_you_to_sign_in(service) -> None:
    with TestClient(service.client.app, follow_redirects=False) as c:
        assert c.get("/portal/sign").headers["location"] == "/portal"
        assert c.post("/portal/sign", files={"file": ("a.pdf", plain_pdf(), "application/pdf")}).status_code == 401
