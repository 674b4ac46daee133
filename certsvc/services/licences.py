"""Issuing licences and changing them over their life (变更, 延续, 暂停, 恢复, 撤销/吊销/注销).

Issuance order, so that a failure leaves nothing half-issued: reserve serial and status index
(short transaction) → render and seal the PDF (no database) → store the blob → one transaction
with the licence, its version and the audit event. A blob without a record is never served and
is removed by the repair pass; a record is never written without its blob.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from certsvc import audit, faults
from certsvc.context import Context
from certsvc.counters import next_value
from certsvc.db.models import Department, Enterprise, Licence, LicenceType, LicenceVersion, utcnow
from certsvc.db.session import session_scope
from certsvc.errors import Conflict, Invalid, NotFound
from certsvc.identifiers import IdentifierError, licence_identifier, licence_number, validate_uscc
from certsvc.metrics import ISSUANCES
from certsvc.security import hash_secret, new_activation_code
from certsvc.services import status as st
from certsvc.services.clock import today
from certsvc.services.sealing import (
    CMS_BYTES_RESERVED,
    MARK_FIELD,
    MARK_RECT,
    QrSpec,
    content_digest,
    seal_code,
    token_key,
)
from certsvc.services.sealing_pool import Sealed, SealJob
from keys.ca import Subject
from signing.layout import LayoutError
from signing.models import LicenceDocument
from signing.payload import KIND_LICENCE, Claims

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


def validate_fields(lt: LicenceType, values: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
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
    start = valid_from or today()
    end = valid_until
    if end is None and lt.validity_days:
        end = start + timedelta(days=lt.validity_days - 1)
    if end is not None and end < start:
        raise Invalid("valid_until: before valid_from", field="valid_until")
    return start, end


def validate_holder(req: IssueRequest) -> tuple[str, str, str]:
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
    lt = session.exec(select(LicenceType).where(LicenceType.code == (code or "").strip().upper())).first()
    if lt is None or lt.department_id != dept.id:
        raise Invalid(f"licence_type: {code!r} is not a licence type of this department", field="licence_type")
    if lt.reform_mode == "abolished":
        raise Conflict(f"licence type {lt.code}: approval abolished (直接取消审批), it issues nothing")
    return lt


@dataclass(frozen=True)
class Content:
    """What a licence version says, decided (serial and status index reserved) before sealing."""

    serial: int
    status_index: int
    version: int
    number: str
    holder_uscc: str
    holder_name: str
    fields: dict[str, str]
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True)
class Draft:
    """A sealed and stored licence version, not yet recorded."""

    content: Content
    job: SealJob
    sealed: Sealed

    @property
    def identifier(self) -> str:
        return self.job.document.identifier

    @property
    def signer_kid(self) -> str:
        return self.job.signer_kid

    @property
    def verify_url(self) -> str:
        return self.sealed.verify_url


def seal_job(ctx: Context, dept: Department, lt: LicenceType, kid: str, c: Content) -> SealJob:
    """The job rendering and sealing one licence version with certificate ``kid``."""
    identifier = licence_identifier(lt.type_code, dept.uscc, c.serial, c.version)
    digest = content_digest(
        {
            "identifier": identifier,
            "holder": [c.holder_uscc, c.holder_name],
            "fields": c.fields,
            "valid": [c.valid_from, c.valid_until],
        }
    )
    claims = Claims(
        kind=KIND_LICENCE,
        identifier=identifier,
        holder_uscc=c.holder_uscc,
        type_code=lt.code,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        version=c.version,
        doc_hash=digest,
        status_index=c.status_index,
    )
    doc = LicenceDocument(
        title=lt.name,
        number=c.number,
        identifier=identifier,
        holder_name=c.holder_name,
        holder_uscc=c.holder_uscc,
        holder_label="名称" if lt.is_business_licence else "持证主体",
        fields=[(f["name"], c.fields[f["name"]]) for f in lt.fields if f["name"] in c.fields],
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        issuer_name=dept.name,
        issue_date=today(),
        version=c.version,
        qr_text="",  # the sealer signs the QR payload and prints its URL
        seal_name=dept.name,
        seal_code=seal_code(dept.uscc, dept.id or 0),
    )
    return SealJob(
        kind="licence",
        document=doc,
        signer_kid=kid,
        seal_purpose="电子证照专用章",
        reason=f"{dept.name} 签发电子证照 {c.number}",
        qr=QrSpec(claims, ctx.settings.public_base_url, "v"),
        reserve_fields=((MARK_FIELD, MARK_RECT),),
        bytes_reserved=CMS_BYTES_RESERVED,
    )


def layout_invalid(e: LayoutError) -> Invalid:
    return Invalid(f"fields: {e}", field="fields")


async def _seal(ctx: Context, dept: Department, lt: LicenceType, c: Content) -> Draft:
    """Render, sign the QR payload, seal and store: the slow part, done outside any transaction."""
    with Session(ctx.engine) as s:
        cert = ctx.keyring.current(s, "department", dept.id)
    job = seal_job(ctx, dept, lt, cert.kid, c)
    try:
        sealed = await ctx.sealer.seal_and_store(job)
    except LayoutError as e:
        raise layout_invalid(e) from e
    return Draft(c, job, sealed)


def version_row(licence_id: str, draft: Draft) -> LicenceVersion:
    c = draft.content
    return LicenceVersion(
        licence_id=licence_id,
        version=c.version,
        identifier=draft.identifier,
        qr_token=token_key(draft.sealed.qr_token),
        qr_payload=draft.sealed.qr_token,
        status_index=c.status_index,
        fields=c.fields,
        holder_name=c.holder_name,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        pdf_sha256=draft.sealed.sha256,
        pdf_size=draft.sealed.size,
        signer_kid=draft.signer_kid,
    )


def licence_row(dept: Department, lt: LicenceType, holder_kind: str, c: Content) -> Licence:
    return Licence(
        licence_type_id=lt.id or 0,
        department_id=dept.id or 0,
        holder_uscc=c.holder_uscc,
        holder_name=c.holder_name,
        holder_kind=holder_kind,
        serial=c.serial,
        number=c.number,
    )


def issue_entry(dept: Department, lt: LicenceType, lic: Licence, draft: Draft) -> audit.Entry:
    """The audit event of a first issuance."""
    details = {
        "identifier": draft.identifier,
        "number": lic.number,
        "holder_uscc": lic.holder_uscc,
        "sha256": draft.sealed.sha256,
        "type": lt.code,
    }
    return audit.Entry("licence.issue", "department", dept.id, "licence", lic.id, details)


async def issue(ctx: Context, dept: Department, req: IssueRequest) -> Issued:
    uscc, name, kind = validate_holder(req)
    with session_scope(ctx.engine) as s:
        lt = licence_type_for(s, dept, req.licence_type)
        values = validate_fields(lt, req.fields or {})
        start, end = validity(lt, req.valid_from, req.valid_until)
        if lt.is_business_licence:
            _check_business_licence_free(s, uscc)
        serial = next_value(s, f"serial:{lt.id}")
        status_index = next_value(s, "status_index")
    faults.point("after_reserve")  # a serial is used up, nothing else: a gap, never a duplicate
    number = licence_number(lt.code, dept.code, today().year, serial)
    draft = await _seal(ctx, dept, lt, Content(serial, status_index, 1, number, uscc, name, values, start, end))
    faults.point("after_blob")  # the PDF is stored, the record is not: repair removes the blob
    activation_code = None
    with session_scope(ctx.engine) as s:
        if lt.is_business_licence:  # again, atomically: another request may have registered it meanwhile
            _check_business_licence_free(s, uscc)
        lic = licence_row(dept, lt, kind, draft.content)
        s.add(lic)
        s.flush()
        ver = version_row(lic.id, draft)
        s.add(ver)
        if lt.is_business_licence:
            activation_code = _register_enterprise(ctx, s, dept, lic, kind)
        audit.record_many(s, [issue_entry(dept, lt, lic, draft)])
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
            merged.update(validate_fields(lt, fields, partial=True))
            for k, v in fields.items():
                if v in (None, ""):
                    merged.pop(k, None)
            validate_fields(lt, merged)
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
    content = Content(lic.serial, status_index, version, lic.number, lic.holder_uscc, name, merged, old.valid_from, end)
    draft = await _seal(ctx, dept, lt, content)
    sha = draft.sealed.sha256
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
        ver = version_row(lic.id, draft)
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
