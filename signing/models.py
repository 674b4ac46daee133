"""What a licence or an acceptance receipt PDF shows (plain data, no behaviour)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = ["LicenceDocument", "ReceiptDocument"]


@dataclass(frozen=True)
class LicenceDocument:
    """Everything printed on a licence (电子证照) page."""

    title: str
    """Licence type name, e.g. 食品经营许可证 or 营业执照."""
    number: str
    """Human licence number (证照编号)."""
    identifier: str
    """Licence identifier (电子证照标识), long dotted form."""
    holder_name: str
    holder_uscc: str
    holder_label: str
    """Label of the holder's name row, e.g. 经营者名称 or 名称."""
    fields: Sequence[tuple[str, str]]
    """(label, value) rows in print order; values may be long and wrap."""
    valid_from: date
    valid_until: date | None
    """``None`` prints 长期 (no end date)."""
    issuer_name: str
    issue_date: date
    version: int
    qr_text: str
    seal_name: str
    seal_code: str
    seal_purpose: str = "电子证照专用章"


@dataclass(frozen=True)
class ReceiptDocument:
    """Everything printed on an acceptance receipt (受理回执)."""

    applicant_name: str
    applicant_uscc: str
    """Applicant's USCC; empty for a natural person."""
    matter: str
    """The application matter (事项)."""
    application_number: str
    received_date: date
    materials_received: Sequence[str]
    materials_missing: Sequence[tuple[str, date]]
    """(material, due date) still to be supplied (容缺受理)."""
    department: str
    issue_date: date
    qr_text: str
    seal_name: str
    seal_code: str
    seal_purpose: str = "业务受理专用章"
    note: str = ""
    """Optional closing remark printed above the department."""
