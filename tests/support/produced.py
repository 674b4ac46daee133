"""One file of every kind the service signs, made through its API, for the tests that check them
all with independent tools (validators, long-term validation, PDF hygiene)."""

from __future__ import annotations

from typing import Any

from tests.support.documents import plain_pdf
from tests.support.service import Service, make_enterprise

JSON = {"Accept": "application/json"}
KINDS = ("licence", "business_licence", "marked_copy", "receipt", "enterprise_signed", "counter_signed")


def every_kind(service: Service, application_number: str) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """kind → (the PDF, what the API said about it: the licence or receipt, ``{}`` for uploads
    the enterprises signed). ``application_number`` keeps the receipts of several modules apart."""
    c = service.client
    ent = make_enterprise(service)
    other = make_enterprise(service, "深圳市另一家有限公司")
    grant = c.post(
        "/api/v1/enterprise/grants",
        headers=ent.auth,
        json={"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开户"},
    ).json()
    share = c.get(grant["share_url"], headers=JSON).json()
    receipt = c.post(
        "/api/v1/receipts",
        headers=service.health.auth,
        json={
            "applicant_name": "深圳市鹏城餐饮管理有限公司",
            "matter": "食品经营许可证核发",
            "application_number": application_number,
            "materials_received": ["申请书"],
        },
    ).json()

    def sign(who: Any, pdf: bytes) -> bytes:
        r = c.post("/api/v1/enterprise/sign", headers=who.auth, files={"file": ("c.pdf", pdf, "application/pdf")})
        assert r.status_code == 200, r.text
        return r.content

    one = sign(ent, plain_pdf("购销合同 / Sales contract"))
    return {
        "licence": (c.get(ent.food_licence["pdf_url"], headers=service.health.auth).content, ent.food_licence),
        "business_licence": (
            c.get(ent.business_licence["pdf_url"], headers=service.market.auth).content,
            ent.business_licence,
        ),
        "marked_copy": (c.get(share["licences"][0]["download_url"]).content, ent.food_licence),
        "receipt": (c.get(receipt["pdf_url"], headers=service.health.auth).content, receipt),
        "enterprise_signed": (one, {}),
        "counter_signed": (sign(other, one), {}),
    }
