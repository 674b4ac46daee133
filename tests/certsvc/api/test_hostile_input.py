"""Input at the edge: lone surrogates, control characters, dates out of range and file names are a
4xx naming the field, never a 500 or a broken answer (issue 11, finding 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.responses import JSONResponse
from werkzeug.http import parse_options_header  # how a client reads the header (werkzeug comes with moto[server])

from certsvc.api.errors import error_body
from certsvc.api.responses import content_disposition
from tests.support.data import food_licence_body

ROOT = Path(__file__).resolve().parents[3]


def _raw_post(service, path: str, raw: str, auth: dict[str, str]):
    """POST a JSON text as written: ``\\ud800`` escapes reach the service as lone surrogates."""
    return service.client.post(path, headers={**auth, "Content-Type": "application/json"}, content=raw.encode())


def _with_escape(body: dict, old: str, escape: str) -> str:
    """``body`` as JSON text with the first ``"old"`` string replaced by the JSON escape ``escape``."""
    text = json.dumps(body, ensure_ascii=False)
    assert f'"{old}"' in text
    return text.replace(f'"{old}"', f'"{escape}"', 1)


def _assert_invalid(r, field: str) -> None:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == field, err
    assert err["message"].startswith(f"{field}: "), err


# --- Content-Disposition ------------------------------------------------------------------


def _params(value: str) -> list[str]:
    """The parameter names of a header value, in order (semicolons inside quoted strings are text)."""
    return [part.split("=", 1)[0].strip() for part in _split_outside_quotes(value)[1:]]


def _split_outside_quotes(value: str) -> list[str]:
    parts: list[str] = []
    current, quoted, escaped = "", False, False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append(current)
            current = ""
            continue
        current += ch
    return [*parts, current]


def _filename(value: str) -> str:
    """The file name a client saves under: ``filename*`` when given, else ``filename``."""
    disposition, options = parse_options_header(value)
    assert disposition == "attachment"
    return options["filename"]


def _receipt(service, number: str) -> dict:
    body = {"applicant_name": "深圳市鹏城餐饮管理有限公司", "matter": "食品经营许可", "application_number": number}
    r = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_receipt_pdf_of_a_chinese_application_number_downloads_under_its_name(service) -> None:
    rec = _receipt(service, "受理2026-001")
    r = service.client.get(f"/api/v1/receipts/{rec['id']}/pdf", headers=service.health.auth)
    assert r.status_code == 200
    assert r.content.startswith(b"%PDF")
    header = r.headers["content-disposition"]
    assert header.isascii()
    assert _filename(header) == "receipt-受理2026-001.pdf"  # filename* (RFC 8187) wins
    assert 'filename="receipt-__2026-001.pdf"' in header  # the ASCII fallback for old clients


def test_receipt_pdf_name_cannot_add_a_parameter(service) -> None:
    rec = _receipt(service, "a\"; filename*=UTF-8''evil.exe; x=\"")
    r = service.client.get(f"/api/v1/receipts/{rec['id']}/pdf", headers=service.health.auth)
    assert r.status_code == 200
    header = r.headers["content-disposition"]
    assert _params(header) == ["filename", "filename*"]
    assert _filename(header) == "receipt-a\"; filename*=UTF-8''evil.exe; x=\".pdf"


@pytest.mark.parametrize("name", ["a\x00b\r\nSet-Cookie: x=1.pdf", "证照\x85\x7f.pdf", 'x"y;z\\.pdf', "😀𪜀.pdf"])
def test_content_disposition_is_one_printable_ascii_line(name: str) -> None:
    value = content_disposition(name)
    assert all(0x20 <= ord(c) < 0x7F for c in value), value
    assert _params(value) == ["filename", "filename*"]
    assert _filename(value) == name


def test_every_download_names_its_file_through_the_one_helper() -> None:
    by_hand = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "certsvc").rglob("*.py")
        if "filename=" in p.read_text(encoding="utf-8") and p.name != "responses.py"
    ]
    assert by_hand == []


def test_licence_pdf_download_has_an_rfc_6266_header(service, issue_food) -> None:
    lic = issue_food()
    r = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth)
    assert r.headers["content-disposition"] == f'attachment; filename="{lic["number"]}-v1.pdf"'


# --- text in request bodies ---------------------------------------------------------------


def test_lone_surrogate_in_a_field_value_is_a_422_naming_it(service) -> None:
    r = _raw_post(
        service, "/api/v1/licences", _with_escape(food_licence_body(), "餐饮服务经营者", "\\ud800"), service.health.auth
    )
    _assert_invalid(r, "fields.主体业态")


def test_lone_surrogate_in_a_field_name_is_a_422(service) -> None:
    r = _raw_post(
        service, "/api/v1/licences", _with_escape(food_licence_body(), "经营项目", "\\udfff"), service.health.auth
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "fields.\\udfff"


def test_lone_surrogate_in_an_amendment_is_a_422(service, issue_food) -> None:
    lic = issue_food()
    raw = '{"fields": {"经营场所": "深圳市\\ud83d"}}'
    r = _raw_post(service, f"/api/v1/licences/{lic['id']}/amend", raw, service.health.auth)
    _assert_invalid(r, "fields.经营场所")


def test_nul_in_holder_name_is_refused_before_it_is_stored(service) -> None:
    r = service.client.post(
        "/api/v1/licences", headers=service.health.auth, json=food_licence_body(name="鹏城\x00公司")
    )
    _assert_invalid(r, "holder_name")
    assert "control character" in r.json()["error"]["message"]


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_refused_in_names(service, char: str) -> None:
    r = service.client.post(
        "/api/v1/licences", headers=service.health.auth, json=food_licence_body(name=f"深圳{char}鹏城有限公司")
    )
    _assert_invalid(r, "holder_name")


def test_line_breaks_are_free_text_only(service) -> None:
    ok = food_licence_body()
    ok["fields"]["经营项目"] = "热食类食品制售\n冷食类食品制售\t（含生食）"
    assert service.client.post("/api/v1/licences", headers=service.health.auth, json=ok).status_code == 201
    r = service.client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body(name="深圳\n鹏城"))
    _assert_invalid(r, "holder_name")


def test_nested_values_and_keys_are_checked(service) -> None:
    body = {"code": "ZZ1", "name": "x", "fields": [{"name": "经营场所"}, {"name": "负责\x00人"}]}
    r = service.client.post("/api/v1/licence-types", headers=service.health.auth, json=body)
    _assert_invalid(r, "fields.1.name")
    r = service.client.post(
        "/api/v1/licence-types", headers=service.health.auth, json={**body, "fields": [], "x": {"k\x1b": 1}}
    )
    assert r.json()["error"]["field"] == "x.k\\x1b"
    r = service.client.post(
        "/api/v1/receipts",
        headers=service.health.auth,
        json={
            "applicant_name": "x",
            "matter": "m",
            "application_number": "1",
            "materials_missing": [{"name": "营业执照\x00", "due": "2030-01-01"}],
        },
    )
    _assert_invalid(r, "materials_missing.0.name")


def test_error_messages_that_echo_input_are_escaped() -> None:
    body = error_body("invalid", "licence_type: '\ud800\x00' is not a licence type", field="licence_type")
    rendered = json.loads(JSONResponse(body).body)
    assert rendered["error"]["message"] == "licence_type: '\\ud800\\x00' is not a licence type"


# --- path and query parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v/abc%00def", "token"),
        ("/api/v1/licences/x%01y", "licence_id"),
        ("/e/%00", "uscc"),
        ("/s/%1b/qr.png", "token"),
    ],
)
def test_control_characters_in_path_parameters_are_a_422(service, path: str, field: str) -> None:
    r = service.client.get(path, headers=service.health.auth)
    _assert_invalid(r, field)


def test_control_characters_in_query_parameters_are_a_422(service, ent) -> None:
    r = service.client.get(
        f"/api/v1/enterprises/{ent.uscc}/licences", params={"purpose": "核查\x00"}, headers=service.housing.auth
    )
    _assert_invalid(r, "purpose")


# --- batches ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ('"fields": {"经营场所": "\\ud800", "主体业态": "y"}', "fields.经营场所"),
        ('"fields": {"经营场所": "x", "主体业态": "a\\u0000b"}', "fields.主体业态"),
        ('"valid_from": "9999-12-31", "fields": {"经营场所": "x", "主体业态": "y"}', "valid_from"),
        ('"valid_from": "2026-02-30", "fields": {"经营场所": "x", "主体业态": "y"}', "valid_from"),
    ],
)
def test_a_bad_batch_item_is_that_items_error(service, bad: str, field: str) -> None:
    good = [json.dumps(food_licence_body(), ensure_ascii=False) for _ in range(3)]
    item = food_licence_body()
    bad_item = f'{{"licence_type": "SPJY", "holder_uscc": "{item["holder_uscc"]}", "holder_name": "x", {bad}}}'
    raw = f'{{"items": [{good[0]}, {good[1]}, {bad_item}, {good[2]}]}}'
    r = _raw_post(service, "/api/v1/licences:batch", raw, service.health.auth)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["issued"], out["failed"]) == (3, 1)
    assert [x["ok"] for x in out["results"]] == [True, True, False, True]
    err = out["results"][2]["error"]
    assert err["field"] == f"items.2.{field}"
    assert err["message"].startswith(f"items.2.{field}: ")


# --- dates --------------------------------------------------------------------------------


def test_valid_from_far_in_the_future_is_a_422_not_an_overflow(service) -> None:
    r = service.client.post(
        "/api/v1/licences", headers=service.health.auth, json=food_licence_body(valid_from="9999-12-31")
    )
    _assert_invalid(r, "valid_from")


def test_default_validity_past_the_last_date_is_a_422(service) -> None:
    r = service.client.post(
        "/api/v1/licences", headers=service.health.auth, json=food_licence_body(valid_from="2999-01-01")
    )
    _assert_invalid(r, "valid_from")


def test_renewal_to_the_end_of_time_is_a_422(service, issue_food) -> None:
    lic = issue_food()
    r = service.client.post(
        f"/api/v1/licences/{lic['id']}/renew", headers=service.health.auth, json={"valid_until": "9999-12-31"}
    )
    _assert_invalid(r, "valid_until")
