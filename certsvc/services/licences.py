"""Issuing licences and changing them over their life (变更, 延续, 暂停, 恢复, 撤销/吊销/注销).

Issuance order, so that a failure leaves nothing half-issued: reserve serial and status index
(short transaction) → render and seal the PDF (no database) → store the blob → one transaction
with the licence, its version and the audit event. A blob without a record is never served and
is removed by the repair pass; a record is never written without its blob.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from certsvc import audit, faults
from certsvc.context import Context
from certsvc.counters import next_value
from certsvc.db.models import Department, Enterprise, Licence, LicenceType, LicenceVersion, utcnow
from certsvc.db.session import session_scope
from certsvc.errors import Conflict, Invalid, NotFound, ServiceError
from certsvc.identifiers import IdentifierError, licence_identifier, licence_number, validate_uscc
from certsvc.metrics import ISSUANCES
from certsvc.security import hash_secret, new_activation_code
from certsvc.services import status as st
from certsvc.services.clock import today
from certsvc.services.sealing import (
    CMS_BYTES_RESERVED,
    MARK_FIELD,
    MARK_RECT,
    content_digest,
    qr_token,
    seal_code,
    token_key,
)
from certsvc.services.sealing_pool import SealJob, StoredPdf
from keys.ca import Subject
from signing.models import LicenceDocument

HOLDER_KINDS = {"enterprise": "企业", "individual": "个体工商户", "cooperative": "农民专业合作社"}
MAX_FIELD_LEN = 2000


@dataclass
class IssueRequest:
    licence_type: str
    holder_uscc: str
    holder_name: str
    holder_kind: str = "enterprise"
    fields: dict[str, Any] = field(default_factory=dict)
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Issued:
    licence: Licence
    version: LicenceVersion
    licence_type: LicenceType
    department: Department
    verify_url: str
    activation_code: str | None = None


def _validate_fields(lt: LicenceType, values: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
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


def _validity(lt: LicenceType, valid_from: date | None, valid_until: date | None) -> tuple[date, date | None]:
    start = valid_from or today()
    end = valid_until
    if end is None and lt.validity_days:
        end = start + timedelta(days=lt.validity_days - 1)
    if end is not None and end < start:
        raise Invalid("valid_until: before valid_from", field="valid_until")
    return start, end


def _holder(req: IssueRequest) -> tuple[str, str, str]:
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


def _type_for(session: Session, dept: Department, code: str) -> LicenceType:
    lt = session.exec(select(LicenceType).where(LicenceType.code == (code or "").strip().upper())).first()
    if lt is None or lt.department_id != dept.id:
        raise Invalid(f"licence_type: {code!r} is not a licence type of this department", field="licence_type")
    if lt.reform_mode == "abolished":
        raise Conflict(f"licence type {lt.code}: approval abolished (直接取消审批), it issues nothing")
    return lt


@dataclass(frozen=True)
class _Draft:
    """Everything decided before sealing: what the document says and where it will live."""

    serial: int
    status_index: int
    identifier: str
    number: str
    version: int
    holder_uscc: str
    holder_name: str
    fields: dict[str, str]
    valid_from: date
    valid_until: date | None
    qr_key: str
    qr_payload: str
    verify_url: str
    signer_kid: str
    stored: StoredPdf


async def _seal(ctx: Context, dept: Department, lt: LicenceType, d: dict[str, Any]) -> _Draft:
    """Render, sign the QR payload, and seal: the slow part, done outside any transaction."""
    keyring = ctx.keyring
    with Session(ctx.engine) as s:
        cert = keyring.current(s, "department", dept.id)
    identifier = licence_identifier(lt.type_code, dept.uscc, d["serial"], d["version"])
    digest = content_digest(
        {
            "identifier": identifier,
            "holder": [d["holder_uscc"], d["holder_name"]],
            "fields": d["fields"],
            "valid": [d["valid_from"], d["valid_until"]],
        }
    )
    qr = qr_token(
        keyring,
        cert,
        ctx.settings.public_base_url,
        "v",
        kind="L",
        identifier=identifier,
        holder_uscc=d["holder_uscc"],
        type_code=lt.code,
        valid_from=d["valid_from"],
        valid_until=d["valid_until"],
        version=d["version"],
        digest=digest,
        status_index=d["status_index"],
    )
    holder_label = "名称" if lt.is_business_licence else "持证主体"
    doc = LicenceDocument(
        title=lt.name,
        number=d["number"],
        identifier=identifier,
        holder_name=d["holder_name"],
        holder_uscc=d["holder_uscc"],
        holder_label=holder_label,
        fields=[(f["name"], d["fields"][f["name"]]) for f in lt.fields if f["name"] in d["fields"]],
        valid_from=d["valid_from"],
        valid_until=d["valid_until"],
        issuer_name=dept.name,
        issue_date=today(),
        version=d["version"],
        qr_text=qr.url,
        seal_name=dept.name,
        seal_code=seal_code(dept.uscc, dept.id or 0),
    )
    stored = await ctx.sealer.seal_and_store(
        SealJob(
            kind="licence",
            document=doc,
            signer_kid=cert.kid,
            seal_purpose="电子证照专用章",
            reason=f"{dept.name} 签发电子证照 {d['number']}",
            reserve_fields=((MARK_FIELD, MARK_RECT),),
            bytes_reserved=CMS_BYTES_RESERVED,
        )
    )
    return _Draft(
        serial=d["serial"],
        status_index=d["status_index"],
        identifier=identifier,
        number=d["number"],
        version=d["version"],
        holder_uscc=d["holder_uscc"],
        holder_name=d["holder_name"],
        fields=d["fields"],
        valid_from=d["valid_from"],
        valid_until=d["valid_until"],
        qr_key=token_key(qr.token),
        qr_payload=qr.token,
        verify_url=qr.url,
        signer_kid=cert.kid,
        stored=stored,
    )


def _version_row(licence_id: str, draft: _Draft, sha: str) -> LicenceVersion:
    return LicenceVersion(
        licence_id=licence_id,
        version=draft.version,
        identifier=draft.identifier,
        qr_token=draft.qr_key,
        qr_payload=draft.qr_payload,
        status_index=draft.status_index,
        fields=draft.fields,
        holder_name=draft.holder_name,
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
        pdf_sha256=sha,
        pdf_size=draft.stored.size,
        signer_kid=draft.signer_kid,
    )


async def issue(ctx: Context, dept: Department, req: IssueRequest) -> Issued:
    uscc, name, kind = _holder(req)
    with session_scope(ctx.engine) as s:
        lt = _type_for(s, dept, req.licence_type)
        values = _validate_fields(lt, req.fields or {})
        start, end = _validity(lt, req.valid_from, req.valid_until)
        if lt.is_business_licence:
            _check_business_licence_free(s, uscc)
        serial = next_value(s, f"serial:{lt.id}")
        status_index = next_value(s, "status_index")
    faults.point("after_reserve")  # a serial is used up, nothing else: a gap, never a duplicate
    number = licence_number(lt.code, dept.code, today().year, serial)
    draft = await _seal(
        ctx,
        dept,
        lt,
        {
            "serial": serial,
            "status_index": status_index,
            "version": 1,
            "number": number,
            "holder_uscc": uscc,
            "holder_name": name,
            "fields": values,
            "valid_from": start,
            "valid_until": end,
        },
    )
    sha = draft.stored.sha256
    faults.point("after_blob")  # the PDF is stored, the record is not: repair removes the blob
    activation_code = None
    with session_scope(ctx.engine) as s:
        if lt.is_business_licence:  # again, atomically: another request may have registered it meanwhile
            _check_business_licence_free(s, uscc)
        lic = Licence(
            licence_type_id=lt.id or 0,
            department_id=dept.id or 0,
            holder_uscc=uscc,
            holder_name=name,
            holder_kind=kind,
            serial=serial,
            number=number,
        )
        s.add(lic)
        s.flush()
        ver = _version_row(lic.id, draft, sha)
        s.add(ver)
        if lt.is_business_licence:
            activation_code = _register_enterprise(ctx, s, dept, lic, kind)
        audit.record(
            s,
            "licence.issue",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence",
            subject_id=lic.id,
            details={
                "identifier": draft.identifier,
                "number": number,
                "holder_uscc": uscc,
                "sha256": sha,
                "type": lt.code,
            },
        )
    ISSUANCES.labels("business_licence" if lt.is_business_licence else "licence").inc()
    return Issued(lic, ver, lt, dept, draft.verify_url, activation_code)


def _check_business_licence_free(s: Session, uscc: str) -> None:
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    if ent and ent.business_licence_id:
        current = s.get(Licence, ent.business_licence_id)
        if current and current.state != st.REVOKED:
            raise Conflict(
                f"holder_uscc: {uscc} already holds a business licence ({current.number})", field="holder_uscc"
            )


def _register_enterprise(ctx: Context, s: Session, dept: Department, lic: Licence, kind: str) -> str:
    code = new_activation_code()
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == lic.holder_uscc)).first()
    if ent is None:
        ent = Enterprise(uscc=lic.holder_uscc, name=lic.holder_name, kind=kind)
    ent.name, ent.kind, ent.business_licence_id = lic.holder_name, kind, lic.id
    ent.activation_code_hash = hash_secret(code.replace("-", ""))
    s.add(ent)
    s.flush()
    ctx.keyring.issue(s, "enterprise", ent.id or 0, Subject(ent.name, ent.name, ent.uscc, "电子营业执照"))
    audit.record(
        s,
        "enterprise.register",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="enterprise",
        subject_id=ent.id,
        details={"uscc": ent.uscc, "name": ent.name, "kind": kind, "business_licence": lic.id},
    )
    return code


# --- reading ------------------------------------------------------------------------------


def owned(s: Session, dept: Department, licence_id: str) -> Licence:
    """The licence if this department issued it; otherwise 404, never revealing that it exists."""
    lic = s.get(Licence, licence_id)
    if lic is None or lic.department_id != dept.id:
        raise NotFound("no such licence")
    return lic


def current_version(s: Session, lic: Licence) -> LicenceVersion:
    ver = s.exec(
        select(LicenceVersion).where(LicenceVersion.licence_id == lic.id, LicenceVersion.version == lic.current_version)
    ).one()
    return ver


# --- lifecycle ------------------------------------------------------------------------------


async def new_version(
    ctx: Context,
    dept: Department,
    licence_id: str,
    *,
    action: str,
    fields: dict[str, Any] | None = None,
    holder_name: str | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> Issued:
    """变更 (amend) or 延续 (renew): a new sealed version supersedes the current one."""
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        if lic.state == st.REVOKED:
            raise Conflict("the licence is revoked; it cannot be amended or renewed")
        if lic.state == st.SUSPENDED and action == "amend":
            pass  # a suspended licence may be corrected; it stays suspended
        old = current_version(s, lic)
        lt = s.get(LicenceType, lic.licence_type_id)
        assert lt is not None
        merged = dict(old.fields)
        if fields is not None:
            merged.update(_validate_fields(lt, fields, partial=True))
            for k, v in fields.items():
                if v in (None, ""):
                    merged.pop(k, None)
            _validate_fields(lt, merged)
        name = (holder_name or lic.holder_name).strip()
        if not name or len(name) > 200:
            raise Invalid("holder_name: at most 200 characters", field="holder_name")
        end = old.valid_until
        if action == "renew":
            if valid_until is None:
                raise Invalid("valid_until: required to renew", field="valid_until")
            if old.valid_until is not None and valid_until <= old.valid_until:
                raise Invalid("valid_until: must be later than the current end of validity", field="valid_until")
            end = valid_until
        if end is not None and end < old.valid_from:
            raise Invalid("valid_until: before valid_from", field="valid_until")
        if lic.current_version >= 999:
            raise Conflict("the licence has reached version 999")
        status_index = next_value(s, "status_index")
        version = lic.current_version + 1
    draft = await _seal(
        ctx,
        dept,
        lt,
        {
            "serial": lic.serial,
            "status_index": status_index,
            "version": version,
            "number": lic.number,
            "holder_uscc": lic.holder_uscc,
            "holder_name": name,
            "fields": merged,
            "valid_from": old.valid_from,
            "valid_until": end,
        },
    )
    sha = draft.stored.sha256
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        if lic.current_version != version - 1:
            raise Conflict("the licence was changed meanwhile; try again")
        old = current_version(s, lic)
        old.superseded_at = utcnow()
        next_value(s, "status")  # the status list changes
        lic.current_version = version
        lic.holder_name = name
        lic.updated_at = utcnow()
        ver = _version_row(lic.id, draft, sha)
        s.add_all([old, lic, ver])
        s.flush()
        audit.record(
            s,
            f"licence.{action}",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence",
            subject_id=lic.id,
            details={
                "version": version,
                "identifier": draft.identifier,
                "supersedes": old.identifier,
                "sha256": sha,
                "reason": reason,
            },
        )
    ISSUANCES.labels(action).inc()
    return Issued(lic, ver, lt, dept, draft.verify_url)


_TRANSITIONS = {
    "suspend": ({st.VALID}, st.SUSPENDED),
    "resume": ({st.SUSPENDED}, st.VALID),
    "revoke": ({st.VALID, st.SUSPENDED}, st.REVOKED),
}


def change_state(
    ctx: Context, dept: Department, licence_id: str, action: str, reason: str, kind: str | None = None
) -> Licence:
    allowed, target = _TRANSITIONS[action]
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason: required", field="reason")
    if len(reason) > 500:
        raise Invalid("reason: at most 500 characters", field="reason")
    revoke_kind = None
    if action == "revoke":
        revoke_kind = kind or next((k for k in st.REVOKE_KINDS if k in reason), "撤销")
        if revoke_kind not in st.REVOKE_KINDS:
            raise Invalid(f"kind: one of {', '.join(st.REVOKE_KINDS)}", field="kind")
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        if lic.state not in allowed:
            raise Conflict(f"cannot {action} a licence that is {lic.state}")
        before = lic.state
        lic.state = target
        next_value(s, "status")  # the status list changes
        lic.state_reason = reason
        lic.revoke_kind = revoke_kind if action == "revoke" else lic.revoke_kind
        lic.updated_at = utcnow()
        s.add(lic)
        audit.record(
            s,
            f"licence.{action}",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence",
            subject_id=lic.id,
            details={"from": before, "to": target, "reason": reason, "kind": revoke_kind},
        )
        return lic


async def issue_batch(ctx: Context, dept: Department, items: list[dict[str, Any]]) -> list[Issued | ServiceError]:
    """Issue each item on its own: one item's error never stops the others.

    Items are sealed concurrently when a pool of sealing processes is configured; each still goes
    through the same reserve → seal → store → record steps as a single issuance.
    """
    from pydantic import ValidationError

    from certsvc.schemas import LicenceIn  # the same validation as a single issue

    limit = asyncio.Semaphore(max(1, ctx.sealer.workers * 4))  # keeps both workers fed while the loop records

    async def one(i: int, raw: dict[str, Any]) -> Issued | ServiceError:
        try:
            req = LicenceIn.model_validate(raw).to_request()
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "item"
            return Invalid(f"items[{i}].{where}: {err.get('msg')}", field=where)
        async with limit:
            try:
                return await issue(ctx, dept, req)
            except ServiceError as e:
                return e

    return list(await asyncio.gather(*(one(i, raw) for i, raw in enumerate(items))))
