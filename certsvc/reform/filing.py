"""Filing (审批改为备案): the enterprise files for a type in ``filing`` mode and may operate at once.
Its filing form is signed with its business-licence signature, and the 备案凭证 is sealed at once
by the department's seal through the one issuance path, as a licence of kind ``filing`` that the
department may withdraw (撤销) like any other."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from certsvc import audit
from certsvc.context import Context
from certsvc.db.models import Department, Enterprise, Filing, Licence, LicenceVersion
from certsvc.enterprises.standing import refuse_unless_in_good_standing
from certsvc.errors import Invalid, NotFound
from certsvc.events.outbox import emit
from certsvc.licences import issuance
from certsvc.licences.records import current_version, owned
from certsvc.licences.rules import IssueRequest, validate_fields
from certsvc.reform.credit import refuse_if_credit_restricted
from certsvc.reform.forms import department_and_type, signed_form


async def file(
    ctx: Context, ent: Enterprise, department: str, licence_type: str, fields: dict[str, Any]
) -> issuance.Issued:
    """File for ``licence_type`` of ``department``: the signed filing form, then the sealed 备案凭证."""
    with Session(ctx.engine) as s:
        dept, lt = department_and_type(s, department, licence_type)
        if lt.reform_mode != "filing":
            raise Invalid(
                f"licence_type: {lt.code} is not in filing mode (审批改为备案); it is {lt.reform_mode}",
                field="licence_type",
            )
        values = validate_fields(lt, fields)
        refuse_unless_in_good_standing(s, ent, "file")
        refuse_if_credit_restricted(s, ent.uscc, actor_kind="enterprise", actor_id=ent.id, what="filing (备案)")
        s.expunge_all()
    _pdf, form_sha = await signed_form(
        ctx,
        ent,
        title=f"{lt.name}备案表",
        reference=f"{dept.code}-{lt.code}",
        rows=[("备案事项", lt.name), ("备案部门", dept.name), *values.items()],
        text="本企业已知悉备案事项的有关要求，承诺所填报信息真实、准确、完整，并对其真实性负责。",
        footer="本备案表以电子营业执照签章",
        signer_label="备案人",
    )

    def record_filing(s: Session, lic: Licence) -> None:
        filing = Filing(licence_id=lic.id, enterprise_id=ent.id or 0, form_sha256=form_sha)
        s.add(filing)
        s.flush()
        audit.record(
            s,
            "filing.create",
            actor_kind="enterprise",
            actor_id=ent.id,
            subject_kind="licence",
            subject_id=lic.id,
            details={"filing": filing.id, "licence_type": lt.code, "department": dept.code, "form_sha256": form_sha},
        )
        emit(s, "filing.created", licence=lic, licence_type=lt, department=dept, data={"filing_id": filing.id})

    req = IssueRequest.model_validate(
        {"licence_type": lt.code, "holder_uscc": ent.uscc, "holder_name": ent.name, "holder_kind": ent.kind,
         "fields": values}
    )  # fmt: skip
    return await issuance.issue(ctx, dept, req, record_filing)


def filing_of(s: Session, licence_id: str) -> Filing | None:
    """The filing a 备案凭证 was sealed for, if any."""
    return s.exec(select(Filing).where(Filing.licence_id == licence_id)).first()


def department_filing(s: Session, dept: Department, licence_id: str, *, download: bool = False) -> Filing:
    """The filing behind one of the department's 备案凭证 (404 for another's, or for a licence that is
    not one); with ``download`` the download of its signed form is audited."""
    lic = owned(s, dept, licence_id)
    f = filing_of(s, lic.id)
    if f is None:
        raise NotFound("this licence is not a 备案凭证")
    if download:
        audit.record_access(
            s,
            "filing_form.download",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="licence",
            subject_id=lic.id,
        )
    return f


def enterprise_filing(s: Session, ent: Enterprise, licence_id: str) -> tuple[Filing, LicenceVersion]:
    """One of the enterprise's filings and the current version of its 备案凭证 (404 for another's)."""
    f = filing_of(s, licence_id)
    lic = s.get(Licence, licence_id)
    if f is None or lic is None or f.enterprise_id != ent.id:
        raise NotFound("no such filing")
    return f, current_version(s, lic)
