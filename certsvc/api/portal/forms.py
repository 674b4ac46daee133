"""The portal's forms: reading a POSTed form, its fields, and the grant form as a :class:`GrantIn`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from pydantic import ValidationError

from certsvc.errors import ServiceError
from certsvc.inputs import error_location
from certsvc.schemas import GrantIn
from certsvc.sharing.grants import MAX_GRANT_DAYS

MAX_FORM_BYTES = 64 * 1024


async def read_form(request: Request) -> dict[str, Any] | None:
    """The POSTed form (urlencoded, as the portal's forms send it) as ``{name: value or [values]}``.

    None when it cannot be read: too large (also when streamed without a length) or not UTF-8.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return {}  # not one of our forms: it carries no CSRF token either, so it is refused with 403
    try:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return None
        size, chunks = 0, []
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None
            chunks.append(chunk)
        pairs = parse_qsl(b"".join(chunks).decode("utf-8"), keep_blank_values=True, max_num_fields=300)
    except (ValueError, UnicodeDecodeError):
        return None
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


FormDep = Annotated[dict[str, Any] | None, Depends(read_form)]


def text(form: dict[str, Any], name: str, limit: int = 500) -> str:
    """A field's (first) value, stripped and cut to ``limit`` characters."""
    v = form.get(name, "")
    if isinstance(v, list):
        v = v[0] if v else ""
    return str(v).strip()[:limit]


def values(form: dict[str, Any], name: str) -> list[str]:
    """All values of a field (at most 200)."""
    v = form.get(name, [])
    return [str(x) for x in (v if isinstance(v, list) else [v])][:200]


class FormProblem(Exception):
    """A field a person must correct; ``message`` says how, in both languages."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def whole_number(form: dict[str, Any], name: str, label: str) -> int | None:
    """A whole-number field, or None when left empty; anything else is a :class:`FormProblem`."""
    raw = text(form, name, 20)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise FormProblem(f"{label}: 请填写整数 · enter a whole number") from None


# --- the grant form -------------------------------------------------------------------------

FIELD_LABELS = {
    "grantee_name": "被授权方 Grantee",
    "grantee_id": "被授权方证件号 Grantee ID",
    "purpose": "用证事由 Purpose",
    "expires_in_days": "有效天数 Days",
    "max_downloads": "最多下载次数 Max downloads",
    "licence_ids": "证照 Licences",
    "all_current": "全部现行证照 All current licences",
}
_TOO_LONG = {
    "grantee_name": "被授权方名称过长 · The grantee name is too long (200 characters at most).",
    "purpose": "用证事由过长 · The purpose is too long (500 characters at most).",
}
_FIELD_MESSAGES = {
    "expires_in_days": f"有效天数须在 1 到 {MAX_GRANT_DAYS} 天之间 · Days must be between 1 and {MAX_GRANT_DAYS}.",
    "grantee_id": (
        "被授权方证件号不是有效的统一社会信用代码或身份证号 · "
        "The grantee ID is neither a valid USCC nor a valid ID card number."
    ),
    "purpose": "请填写用证事由 · Enter the purpose (用证事由).",
    "grantee_name": "请填写被授权方名称 · Enter the grantee's name.",
}
_FIELD_ORDER = list(GrantIn.model_fields)


def grant_choice(form: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether all current licences are granted, and else the chosen licence ids."""
    return text(form, "all_current", 10) in ("1", "on", "true"), [i for i in values(form, "licence_ids") if i]


def grant_request(form: dict[str, Any]) -> GrantIn:
    """The grant form as the API's request body; :class:`FormProblem` says what to correct."""
    all_current, licence_ids = grant_choice(form)
    days = whole_number(form, "expires_in_days", FIELD_LABELS["expires_in_days"])
    max_downloads = whole_number(form, "max_downloads", FIELD_LABELS["max_downloads"])
    try:
        return GrantIn(
            licence_ids=None if all_current else licence_ids,
            all_current=all_current,
            grantee_name=text(form, "grantee_name", 201),
            grantee_id=text(form, "grantee_id", 32) or None,
            purpose=text(form, "purpose", 501),
            expires_in_days=days,
            max_downloads=max_downloads,
        )
    except ValidationError as e:
        raise FormProblem(_first_problem(e)) from None


def _first_problem(e: ValidationError) -> str:
    """The message of the error to show first: a value too long before a missing one, then in field order."""

    def name(err: Any) -> str:
        return error_location(err, whole="").split(".")[0]

    def rank(err: Any) -> tuple[bool, int]:
        order = _FIELD_ORDER.index(name(err)) if name(err) in _FIELD_ORDER else len(_FIELD_ORDER)
        return err["type"] != "string_too_long", order

    first = min(e.errors(), key=rank)
    if first["type"] == "unsafe_text":
        label = FIELD_LABELS.get(name(first), name(first))
        return f"{label}: 含有控制字符或无效字符 · {first['msg']}"
    if first["type"] == "string_too_long" and name(first) in _TOO_LONG:
        return _TOO_LONG[name(first)]
    return field_message(name(first), first["msg"])


def field_message(name: str, message: str) -> str:
    """The bilingual message for a problem with the grant form's field ``name``."""
    if name in _FIELD_MESSAGES:
        return _FIELD_MESSAGES[name]
    label = FIELD_LABELS.get(name, "")
    return f"{label + ': ' if label else ''}{message}"


def grant_message(e: FormProblem | ServiceError) -> str:
    """What the grant form shows for a problem, in both languages: the form's own, or the service's."""
    if isinstance(e, FormProblem):
        return e.message
    if e.field == "licence_ids" and "at least one" in e.message:
        return "请至少选择一本证照，或勾选“全部现行证照” · Choose at least one licence, or tick “all current”."
    return field_message(e.field or "", e.message)
