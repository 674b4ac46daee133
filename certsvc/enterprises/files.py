"""The enterprise's own files: the originals of the licences it holds (any status), each download
audited and written to its access log, and the acceptance receipts issued to it (audited)."""

from __future__ import annotations

from sqlmodel import Session

from certsvc import audit
from certsvc.db.models import Enterprise, Licence, LicenceVersion, Receipt
from certsvc.enterprises.accounts import log_access
from certsvc.errors import Denial, NotFound
from certsvc.licences.records import current_version


def own_original(s: Session, ent: Enterprise, licence_id: str) -> tuple[Licence, LicenceVersion]:
    """A licence ``ent`` holds and its current version, whose sealed PDF it downloads; another holder's
    licence is NotFound (and a recorded denial), as if it did not exist."""
    lic = s.get(Licence, licence_id) if len(licence_id) <= 32 else None
    if lic is None:
        raise NotFound("no such licence")
    if lic.holder_uscc != ent.uscc:
        denial = Denial("other_holder", "enterprise", ent.id, "licence", lic.id, "another holder's licence")
        raise NotFound("no such licence", denial=denial)
    ver = current_version(s, lic)
    audit.record_access(
        s,
        "licence.download",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="licence",
        subject_id=lic.id,
        details={"version": ver.version, "as": "holder"},
    )
    log_access(s, ent.uscc, "holder_download", licence_id=lic.id)
    return lic, ver


def original_filename(lic: Licence, ver: LicenceVersion) -> str:
    """The name an original downloads under: its licence number and version."""
    return f"{lic.number}-v{ver.version}.pdf"


def own_receipt(s: Session, ent: Enterprise, receipt_id: str) -> Receipt:
    """An acceptance receipt issued to ``ent`` (its USCC as the applicant), whose sealed PDF it downloads;
    the download is audited. Another applicant's receipt is NotFound (and a recorded denial)."""
    rec = s.get(Receipt, receipt_id) if len(receipt_id) <= 32 else None
    if rec is None:
        raise NotFound("no such receipt")
    if rec.applicant_uscc != ent.uscc:
        denial = Denial("other_holder", "enterprise", ent.id, "receipt", rec.id, "another applicant's receipt")
        raise NotFound("no such receipt", denial=denial)
    audit.record_access(
        s,
        "receipt.download",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="receipt",
        subject_id=rec.id,
        details={"application_number": rec.application_number, "sha256": rec.pdf_sha256, "as": "applicant"},
    )
    return rec


def receipt_filename(rec: Receipt) -> str:
    """The name a receipt downloads under: its application number."""
    return f"receipt-{rec.application_number}.pdf"
