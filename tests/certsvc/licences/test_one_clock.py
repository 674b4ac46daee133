"""One clock for people: a licence issued at 2026-12-01T17:00Z (already 12月2日 in China) reads
2026-12-02 everywhere a person reads a date — the PDF, /v/, the portal, the default start of
validity — while JSON keeps the moment in ISO-8601 with its offset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from certsvc.core import clock
from tests.support.data import food_licence_body
from tests.support.pdfcheck import page_text

LATE_UTC = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 2026-12-02 01:00 in China
CHINA_DATE = "2026-12-02"


@pytest.fixture(scope="module")
def late(service) -> Iterator[tuple[dict, dict]]:
    """A food licence issued (default validity) with the clock at 17:00 UTC, and its /v/ JSON."""
    with clock.frozen(LATE_UTC):
        body = food_licence_body()
        body.pop("valid_from", None)
        r = service.client.post("/api/v1/licences", headers=service.health.auth, json=body)
        assert r.status_code == 201, r.text
        lic = r.json()
        page = service.client.get(
            lic["verify_url"].replace("http://testserver", ""), headers={"Accept": "application/json"}
        )
        yield lic, page.json()


def test_default_valid_from_is_the_date_in_china(late) -> None:
    _lic, view = late
    assert view["valid_from"] == CHINA_DATE


def test_pdf_prints_the_date_of_issue_in_china(service, late) -> None:
    lic, _view = late
    pdf = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content
    text = page_text(pdf).replace(" ", "")
    assert "2026年12月02日" in text or "2026年12月2日" in text or CHINA_DATE in text, text


def test_v_page_shows_the_date_of_issue_in_china(service, late) -> None:
    lic, _view = late
    with clock.frozen(LATE_UTC):
        html = service.client.get(lic["verify_url"].replace("http://testserver", "")).text
    issued = html.split("发证日期", 1)[1].split("</dd>", 1)[0]
    assert CHINA_DATE in issued and "2026-12-01" not in issued


def test_json_keeps_the_moment_with_its_offset(late) -> None:
    _lic, view = late
    assert datetime.fromisoformat(view["issued_at"]) == LATE_UTC
    assert view["issued_on"] == CHINA_DATE


def test_receipt_page_shows_the_date_of_acceptance_in_china(service) -> None:
    body = {
        "applicant_name": "深圳市鹏城餐饮管理有限公司",
        "matter": "食品经营许可证核发",
        "application_number": "SQ202612010001",
        "materials_received": ["申请书"],
    }
    with clock.frozen(LATE_UTC):
        r = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
        assert r.status_code == 201, r.text
        html = service.client.get(r.json()["verify_url"].replace("http://testserver", "")).text
    accepted = html.split("受理时间", 1)[1].split("</dd>", 1)[0]
    assert CHINA_DATE in accepted and "2026-12-01" not in accepted
