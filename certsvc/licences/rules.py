"""What a licence request must satisfy before anything is reserved: the holder, the licence type,
its fields and the validity period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlmodel import Session, select

from certsvc.core.clock import today
from certsvc.db.models import Department, LicenceType
from certsvc.errors import Conflict, Invalid
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.inputs import DATE_MAX, Day, RequestModel
from signing.layout import LayoutError

HolderKind = Literal["enterprise", "individual", "cooperative"]
HOLDER_KINDS = {"enterprise": "企业", "individual": "个体工商户", "cooperative": "农民专业合作社"}
MAX_FIELD_LEN = 2000


class IssueRequest(RequestModel):
    """One licence to issue: the body of ``POST /licences`` and each item of a batch."""

    MULTILINE = frozenset({"fields"})
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "licence_type": "SPJY",
                    "holder_uscc": "91440300MA5G0A1B4F",
                    "holder_name": "深圳市鹏城餐饮管理有限公司",
                    "fields": {
                        "经营场所": "深圳市南山区科技园路1号",
                        "主体业态": "餐饮服务经营者",
                        "经营项目": "热食类食品制售",
                    },
                }
            ]
        }
    }

    licence_type: str = Field(min_length=1, max_length=16)
    holder_uscc: str = Field(min_length=1, max_length=32)
    holder_name: str = Field(min_length=1, max_length=200)
    holder_kind: HolderKind = "enterprise"
    fields: dict[str, Any] = Field(default_factory=dict)
    valid_from: Day | None = None
    valid_until: Day | None = None
    commitment_id: str | None = Field(
        default=None, max_length=64, description="commitment mode: the commitment the holder signed (告知承诺书)"
    )


class PaperLicenceRequest(IssueRequest):
    """A back-filled paper licence (an item of ``POST /licence-jobs``): may keep the paper licence's
    number (证照编号) and original issue date (颁发日期)."""

    number: str | None = Field(
        default=None, min_length=1, max_length=64, description="the paper licence's number, kept as this licence's"
    )
    issued_on: Day | None = Field(default=None, description="the paper licence's original issue date (颁发日期)")


def paper_terms(req: IssueRequest) -> tuple[str | None, date | None]:
    """(number, issue date) a paper licence keeps, or (None, None): the number trimmed, printable,
    without spaces inside; the issue date not in the future."""
    if not isinstance(req, PaperLicenceRequest):
        return None, None
    number = req.number.strip() if req.number is not None else None
    if number is not None and (not number or not number.isprintable() or any(ch.isspace() for ch in number)):
        raise Invalid("number: must be printable text without spaces", field="number")
    issued = req.issued_on
    if issued is not None and issued > today():
        raise Invalid(f"issued_on: {issued.isoformat()} is in the future", field="issued_on")
    return number, issued


def check_issued_on(issued: date | None, valid: tuple[date, date | None]) -> None:
    """A paper licence was not issued after its validity ended."""
    if issued is not None and valid[1] is not None and issued > valid[1]:
        raise Invalid(f"issued_on: {issued.isoformat()} is after valid_until {valid[1].isoformat()}", field="issued_on")


def validate_fields(lt: LicenceType, values: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    """The field values as printed (text, trimmed, empty ones dropped); 422 naming the field."""
    schema = {f["name"]: f for f in lt.fields}
    out: dict[str, str] = {}
    for name, value in values.items():
        if name not in schema:
            raise Invalid(f"fields.{name}: not a field of licence type {lt.code}", field=f"fields.{name}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Invalid(f"fields.{name}: must be text or a number", field=f"fields.{name}")
        text = str(value).strip()
        if len(text) > MAX_FIELD_LEN:
            raise Invalid(f"fields.{name}: at most {MAX_FIELD_LEN} characters", field=f"fields.{name}")
        if text:
            out[name] = text
    if not partial:
        for name, spec in schema.items():
            if spec.get("required") and name not in out:
                raise Invalid(f"fields.{name}: required by licence type {lt.code}", field=f"fields.{name}")
    return out


def validity(lt: LicenceType, valid_from: date | None, valid_until: date | None) -> tuple[date, date | None]:
    """(first day, last day or None for 长期); the type's default validity when no end is given."""
    start = valid_from or today()
    end = valid_until
    if end is None and lt.validity_days:
        end = start + timedelta(days=lt.validity_days - 1)  # at most DATE_MAX + 100 years: no overflow
        if end > DATE_MAX:
            raise Invalid(
                f"valid_from: with the default validity of {lt.validity_days} days the licence would end after "
                f"{DATE_MAX.isoformat()}; give valid_until",
                field="valid_from",
            )
    if end is not None and end < start:
        raise Invalid("valid_until: before valid_from", field="valid_until")
    return start, end


def validate_holder(req: IssueRequest) -> tuple[str, str, str]:
    """(USCC, name, kind) of the holder, checked."""
    try:
        uscc = validate_uscc(req.holder_uscc)
    except IdentifierError as e:
        raise Invalid(f"holder_uscc: {e}", field="holder_uscc") from e
    name = (req.holder_name or "").strip()
    if not name or len(name) > 200:
        raise Invalid("holder_name: required, at most 200 characters", field="holder_name")
    if req.holder_kind not in HOLDER_KINDS:
        raise Invalid(f"holder_kind: one of {', '.join(HOLDER_KINDS)}", field="holder_kind")
    return uscc, name, req.holder_kind


def licence_type_for(session: Session, dept: Department, code: str) -> LicenceType:
    """The department's own licence type ``code``; a type whose approval is abolished issues nothing."""
    lt = session.exec(select(LicenceType).where(LicenceType.code == (code or "").strip().upper())).first()
    if lt is None or lt.department_id != dept.id:
        raise Invalid(f"licence_type: {code!r} is not a licence type of this department", field="licence_type")
    if lt.reform_mode == "abolished":
        raise Conflict(f"licence type {lt.code}: approval abolished (直接取消审批), it issues nothing")
    return lt


def layout_invalid(e: LayoutError) -> Invalid:
    """A licence whose content does not fit its page is the request's fault."""
    return Invalid(f"fields: {e}", field="fields")
