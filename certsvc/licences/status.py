"""A licence version's status as the public sees it, derived at read time.

Expiry needs no job: a version past its ``valid_until`` reads as expired the next day.
"""

from __future__ import annotations

from datetime import date

from certsvc.core.clock import today
from certsvc.db.models import Licence, LicenceVersion

VALID = "valid"
EXPIRED = "expired"
SUSPENDED = "suspended"
REVOKED = "revoked"
SUPERSEDED = "superseded"

LABELS = {
    VALID: ("有效", "Valid"),
    EXPIRED: ("已过期", "Expired"),
    SUSPENDED: ("已暂停", "Suspended"),
    REVOKED: ("已撤销", "Revoked"),
    SUPERSEDED: ("已被新版本取代", "Superseded by a newer version"),
}
REVOKE_KINDS = {"撤销": "withdrawn", "吊销": "revoked", "注销": "cancelled"}

# Status-list codes (2 bits per entry, the Token Status List's types): what an offline verifier
# learns about a version. 0x01 is the draft's INVALID, 0x02 its SUSPENDED; 0x03 is ours.
STATUS_CODES = {VALID: 0, REVOKED: 1, SUSPENDED: 2, SUPERSEDED: 3}


def status_of(lic: Licence, ver: LicenceVersion, on: date | None = None) -> str:
    """The status a verifier shows for this version (valid, expired, suspended, revoked, superseded)."""
    if ver.superseded_at is not None or ver.version != lic.current_version:
        return SUPERSEDED
    if lic.state == REVOKED:
        return REVOKED
    if lic.state == SUSPENDED:
        return SUSPENDED
    if ver.valid_until is not None and (on or today()) > ver.valid_until:
        return EXPIRED
    return VALID


def stored_code(lic: Licence, ver: LicenceVersion) -> int:
    """The status-list code: everything but expiry, which an offline verifier reads from the QR."""
    s = status_of(lic, ver, on=date.min)
    return STATUS_CODES.get(s, 0)
