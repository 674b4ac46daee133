"""``/docs`` and ``/redoc`` render in headless Chromium with every request outside the test server
refused: their scripts and styles come with the package, and their Content Security Policy lets them
run. Both list every operation of ``/openapi.json``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import SHOTS

pytestmark = pytest.mark.files  # the document and the pages come from the code: the database plays no part

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def operation_count(live) -> int:
    spec = live.client.get("/openapi.json").json()
    return sum(1 for item in spec["paths"].values() for method in item if method in ("get", "post", "put", "delete"))


def _offline_page(browser, base_url: str) -> tuple[Any, list[str], list[str]]:
    """A page whose requests beyond ``base_url`` are aborted (and noted), with its console errors noted."""
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(30_000)
    refused: list[str] = []
    errors: list[str] = []

    def only_the_server(route) -> None:
        url = route.request.url
        if url.startswith(base_url + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, refused, errors


def test_swagger_ui_lists_every_operation_offline(browser, base_url: str, operation_count: int) -> None:
    page, refused, errors = _offline_page(browser, base_url)
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock-summary", state="attached")
    assert page.locator(".opblock").count() == operation_count
    assert page.locator("button.authorize").count() == 1  # the bearer schemes: an Authorize button
    page.locator("button.authorize").click()
    assert page.locator(".auth-container").count() == 2  # department key, enterprise token
    page.screenshot(path=str(SHOTS / "docs-swagger.png"))
    assert not refused, refused
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.context.close()


def test_redoc_lists_every_operation_offline(browser, base_url: str, operation_count: int) -> None:
    page, refused, errors = _offline_page(browser, base_url)
    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", state="attached")
    assert page.locator("[data-section-id^='operation/']").count() == operation_count
    page.screenshot(path=str(SHOTS / "docs-redoc.png"))
    assert not refused, refused
    # ReDoc's "API docs by Redocly" logo is the one thing it asks of another origin; the CSP refuses
    # it and the logo hides itself. Anything else refused would be a page that needs the internet.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert not [e for e in errors if ("Content Security Policy" in e or "Refused" in e) and logo not in e], errors
    page.context.close()


def test_docs_pages_allow_no_other_origin(live) -> None:
    for path in ("/docs", "/redoc"):
        csp = live.client.get(path).headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'"
        assert "http" not in csp and "*" not in csp and "unsafe-eval" not in csp
        assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
        assert "'unsafe-inline'" not in directives["script-src"]
    asset = live.client.get("/docs/assets/swagger-ui-bundle.js?v=1")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
    assert live.client.get("/docs/assets/..%2Fcore.py").status_code == 404
