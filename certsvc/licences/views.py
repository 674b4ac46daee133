"""How licences are shown: to their issuer, to their holder, and to the public."""

from __future__ import annotations

from typing import Any

from certsvc.core.clock import local_date
from certsvc.db.models import Department, Licence, LicenceType, LicenceVersion
from certsvc.enterprises.standing import holder_label
from certsvc.licences import status as st


def printed_issue_date(lic: Licence, ver: LicenceVersion) -> str | None:
    """The date of issue as printed on the PDF: a back-filled paper licence's original date on its
    first version, else the day the version was sealed, in China."""
    if lic.issued_on is not None and ver.version == 1:
        return lic.issued_on.isoformat()
    return local_date(ver.issued_at)


def _d(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def public_view(
    lic: Licence,
    ver: LicenceVersion,
    lt: LicenceType,
    dept: Department,
    base_url: str,
    holder: tuple[str | None, str | None] = (None, None),
    commitment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What anyone may see: no field values, so no personal data of natural persons. ``holder`` is
    the state and revocation kind of the holder's business licence, shown with every licence it holds;
    ``commitment`` the public view of the commitment it was issued with (告知承诺), if any."""
    status = st.status_of(lic, ver)
    zh, en = st.LABELS[status]
    holder_state, holder_kind = holder
    holder_words = holder_label(holder_state, holder_kind)
    view = {
        "genuine": True,
        "kind": lic.kind,
        "status": status,
        "status_label": zh,
        "status_label_en": en,
        "licence_type": lt.code,
        "licence_type_name": lt.name,
        "number": lic.number,
        "identifier": ver.identifier,
        "version": ver.version,
        "current_version": lic.current_version,
        "holder_name": ver.holder_name,
        "holder_uscc": lic.holder_uscc,
        "issuer": dept.name,
        "issuer_uscc": dept.uscc,
        "valid_from": _d(ver.valid_from),
        "valid_until": _d(ver.valid_until),
        "issued_at": _d(ver.issued_at),
        "issued_on": printed_issue_date(lic, ver),
        "pdf_sha256": ver.pdf_sha256,
        "state_reason": lic.state_reason if status in (st.REVOKED, st.SUSPENDED) else None,
        "revoke_kind": lic.revoke_kind if status == st.REVOKED else None,
        "enterprise_url": f"{base_url}/e/{lic.holder_uscc}",
        "holder_status": holder_state,
        "holder_status_label": holder_words[0] if holder_words else None,
        "holder_status_label_en": holder_words[1] if holder_words else None,
    }
    if commitment is not None:
        view["commitment"] = commitment
    return view


def licence_view(lic: Licence, ver: LicenceVersion, lt: LicenceType, dept: Department, base_url: str) -> dict[str, Any]:
    """The full record, for the issuing department and the holder."""
    status = st.status_of(lic, ver)
    return {
        "id": lic.id,
        "kind": lic.kind,
        "identifier": ver.identifier,
        "number": lic.number,
        "version": ver.version,
        "status": status,
        "status_label": st.LABELS[status][0],
        "licence_type": lt.code,
        "licence_type_name": lt.name,
        "holder_uscc": lic.holder_uscc,
        "holder_name": ver.holder_name,
        "holder_kind": lic.holder_kind,
        "fields": ver.fields,
        "valid_from": _d(ver.valid_from),
        "valid_until": _d(ver.valid_until),
        "issuer": dept.name,
        "issuer_code": dept.code,
        "issued_at": _d(ver.issued_at),
        "issued_on": printed_issue_date(lic, ver),
        "state_reason": lic.state_reason,
        "revoke_kind": lic.revoke_kind,
        "sha256": ver.pdf_sha256,
        "pdf_url": f"{base_url}/api/v1/licences/{lic.id}/pdf",
        "verify_url": f"{base_url}/v/{ver.qr_payload}",  # the URL its QR code prints
    }
