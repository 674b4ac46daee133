"""What a licence or an acceptance receipt PDF shows, and the job that seals one (plain data)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from signing.payload import Claims

__all__ = ["LicenceDocument", "QrSpec", "ReceiptDocument", "SealJob"]


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
    type_code: str = ""
    """证照类型代码 (GB/T 36903); empty: read from :attr:`identifier`."""
    issuer_code: str = ""
    """颁发机构代码, the issuing department's USCC; empty: read from :attr:`identifier`."""
    holder_code_type: str = "统一社会信用代码"
    """持证主体代码类型: what :attr:`holder_uscc` is."""


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


@dataclass(frozen=True)
class QrSpec:
    """A QR payload to sign, and the public path its URL goes under ("v" licences, "r" receipts).

    The payload is signed where the document is rendered and sealed, with the seal's own key.
    """

    claims: Claims
    base_url: str
    path: str


@dataclass(frozen=True)
class SealJob:
    """Everything needed to render and seal one document (plain, picklable data).

    The document's ``qr_text`` is left empty: :func:`signing.pipeline.seal` signs ``qr`` with the
    seal's key and prints its URL.
    """

    document: LicenceDocument | ReceiptDocument
    signer_kid: str
    """Hex key id of the department's seal certificate."""
    reason: str
    """The signed /Reason of the seal."""
    qr: QrSpec
    reserve_mark: bool = False
    """Reserve the empty mark field, filled later when a marked copy (加注件) is made."""
    bytes_reserved: int | None = None
    """Space for the CMS signature; None computes a tight bound (keeps /Contents small)."""
