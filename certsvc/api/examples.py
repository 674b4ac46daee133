"""Examples for the OpenAPI document, made from the schemas themselves.

An example is built by walking a JSON schema: a value the schema gives (``examples``, ``const``,
``enum``, ``default``) comes first, then a realistic value for a well-known property name
(:data:`BY_NAME`: a USCC, a licence number, a URL …), then one by format and type. So every
request and answer, including those of routes added later, has an example, and the OpenAPI test
checks each one against its schema."""

from __future__ import annotations

from typing import Any

BASE = "https://zwfw.example.gov.cn"
USCC = "91440300MA5FXT4K8N"  # valid check characters (GB 32100-2015)
DEPT_USCC = "11440300MB2C7Q1D7K"
ID = "6be1c6fba1404d179eda7b8a54a30f62"
TOKEN = "Jm3xQ0v2Rk8yT1bW5nLs7A"  # noqa: S105 (an example in the documentation)

BY_NAME: dict[str, Any] = {
    "id": ID,
    "licence_id": ID,
    "grant_id": "0f4d8a2c9b7e4e1f8a6b3c5d7e9f1a2b",
    "identifier": f"1.2.156.3005.2.{DEPT_USCC}001.{DEPT_USCC}.00000001.001.6",
    "number": "SPJYSZWJ202600000001",
    "uscc": USCC,
    "holder_uscc": USCC,
    "applicant_uscc": USCC,
    "grantee_id": "91440300192234567X",
    "holder_name": "深圳市鹏城餐饮管理有限公司",
    "applicant_name": "深圳市鹏城餐饮管理有限公司",
    "grantee_name": "中国银行深圳分行",
    "department": "深圳市卫生健康委员会",
    "issuer": "深圳市卫生健康委员会",
    "licence_type": "SPJY",
    "licence_type_name": "食品经营许可证",
    "type": "SPJY",
    "code": "SPJY",
    "purpose": "开立对公账户",
    "reason": "经营场所不符合要求，责令整改",
    "note": "已纳入日常监管",
    "matter": "食品经营许可",
    "application_number": "SL2026-0001",
    "sha256": "3f7a0c1e9b2d4f6a8c0e2b4d6f8a0c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a",
    "token": f"ent_3f2a9c1b7d4e_{TOKEN}",
    "activation_code": "7K2M-9QXR-4TWB-H3NP",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "verify_url": f"{BASE}/v/{TOKEN}",
    "pdf_url": f"{BASE}/api/v1/licences/{ID}/pdf",
    "share_url": f"{BASE}/s/{TOKEN}",
    "qr_url": f"{BASE}/s/{TOKEN}/qr.png",
    "url": "https://jg.example.gov.cn/hooks/certsvc",
    "next_cursor": None,
    "cursor": None,
    "fields": {"经营场所": "深圳市南山区科技园路1号", "主体业态": "餐饮服务经营者", "经营项目": "热食类食品制售"},
    "certificate": "-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n",
    "root": "-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n",
    "kid": "dept-SZWJ-1",
    "message": "示例 · an example",
    "detail": "签名完整，签署后未被修改 · the signature is intact and nothing changed after signing",
    "holder_kind": "enterprise",
    "issuer_code": DEPT_USCC,
    "issuer_uscc": DEPT_USCC,
    "state_reason": "经营场所变更",
}

_BY_FORMAT = {
    "date": "2026-01-31",
    "date-time": "2026-01-31T08:00:00+08:00",
    "uri": f"{BASE}/",
    "binary": "",
}

_ERROR_CODES = {
    400: ("bad_request", "expected Content-Type: application/timestamp-query"),
    401: ("unauthorized", "send Authorization: Bearer <key>"),
    403: ("forbidden", "this token may not do this"),
    404: ("not_found", "no such licence"),
    409: ("conflict", "the licence is revoked (已撤销); it cannot be changed"),
    410: ("gone", "this share link has expired"),
    413: ("too_large", "file larger than 20 MiB"),
    422: ("invalid", "holder_uscc: must be 18 characters, got 3"),
    429: ("too_many_requests", "too many uploads from this address; try again later"),
    503: ("unavailable", "all verifiers are busy; try again later"),
}


def error_example(status: int) -> dict[str, Any]:
    """An error body as ``status`` answers it."""
    code, message = _ERROR_CODES.get(status, ("error", "something went wrong"))
    detail: dict[str, Any] = {"code": code, "message": message}
    if status == 422:
        detail["field"] = "holder_uscc"
        detail["fields"] = [{"field": "holder_uscc", "message": "must be 18 characters, got 3"}]
    return {"error": detail}


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def example_for(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """An example instance of ``schema`` (``$ref`` resolved within ``document``, the OpenAPI document)."""
    return _example(schema, document, None, 0)


def _example(schema: dict[str, Any], document: dict[str, Any], name: str | None, depth: int) -> Any:
    schema = _resolve(schema, document)
    if depth > 8:
        return None
    for key in ("examples", "example"):
        if key in schema:
            value = schema[key]
            return value[0] if key == "examples" and isinstance(value, list) and value else value
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return _example(options[0], document, name, depth + 1)
    known = _by_name(name)
    if known is not None and _fits(known, schema):
        return known
    if schema.get("default") is not None:
        return schema["default"]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _example(part, document, name, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return _object(schema, document, depth)
    if kind == "array":
        item = _example(schema.get("items", {}), document, _singular(name), depth + 1)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "number":
        return float(max(1, schema.get("minimum", 1)))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        text = _BY_FORMAT.get(schema.get("format", ""), "示例")
        return text * max(1, -(-schema.get("minLength", 0) // max(1, len(text))))
    return {}


_SUFFIXES = (
    ("_label_en", "valid"),
    ("_label", "有效"),
    ("_at", "2026-01-31T08:00:00+08:00"),
    ("_on", "2026-01-31"),
    ("_from", "2026-01-31"),
    ("_until", "2031-01-30"),
    ("_url", f"{BASE}/v/{TOKEN}"),
    ("_uscc", USCC),
    ("_sha256", BY_NAME["sha256"]),
    ("_id", ID),
)


def _by_name(name: str | None) -> Any:
    """A realistic value for a property called ``name``, or None."""
    if name is None:
        return None
    if name in BY_NAME:
        return BY_NAME[name]
    for suffix, value in _SUFFIXES:
        if name.endswith(suffix):
            return value
    return {"due": "2026-03-31", "until": "2026-12-31"}.get(name)


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "object": dict,
    "array": list,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    if kinds is None:
        return not ("properties" in schema and not isinstance(value, dict))
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any((value is None) if k == "null" else isinstance(value, _JSON_TYPES.get(k, object)) for k in kinds)


def _singular(name: str | None) -> str | None:
    if name and name.endswith("s") and name[:-1] in BY_NAME:
        return name[:-1]
    return None


def _object(schema: dict[str, Any], document: dict[str, Any], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for prop, sub in schema.get("properties", {}).items():
        if prop not in required and _by_name(prop) is None:
            continue  # optional and nothing telling to show: left out, as the answers leave it out
        value = _example(sub, document, prop, depth + 1)
        if value is None and prop not in required and not _nullable(sub, document):
            continue
        out[prop] = value
    extra = schema.get("additionalProperties")
    if not out and isinstance(extra, dict) and extra:
        out["名称"] = _example(extra, document, None, depth + 1)
    return out


def _nullable(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    schema = _resolve(schema, document)
    options = schema.get("anyOf", []) + schema.get("oneOf", [])
    return schema.get("type") == "null" or any(o.get("type") == "null" for o in options)
