"""A licence's status as of a moment (``?at=``), from its recorded history.

Every issue, new version and state change writes a row (:class:`LicenceStatusChange`) in the
transaction that makes it; the status at a moment is that of the last row at or before it, with
expiry read against the date in China on that moment, as people read validity dates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from certsvc.core.clock import CST
from certsvc.db.models import LicenceStatusChange
from certsvc.enterprises.standing import holder_label
from certsvc.licences import status as st

_AS_OF = (
    select(col(LicenceStatusChange.state), col(LicenceStatusChange.version), col(LicenceStatusChange.reason))
    .where(
        col(LicenceStatusChange.licence_id) == bindparam("licence_id"),
        col(LicenceStatusChange.at) <= bindparam("at"),
    )
    .order_by(col(LicenceStatusChange.at).desc(), col(LicenceStatusChange.id).desc())
    .limit(1)
)

NOT_YET_ISSUED = ("该时刻尚未签发", "Not yet issued at that moment")


def record_change(
    s: Session, licence_id: str, action: str, state: str, version: int, at: datetime, reason: str | None = None
) -> None:
    """Write one step of a licence's history, in the transaction that makes the change."""
    s.add(LicenceStatusChange(licence_id=licence_id, at=at, action=action, state=state, version=version, reason=reason))


def moment(at: datetime) -> datetime:
    """``at`` as an aware moment: a time without an offset is China time, as a person means it."""
    return at if at.tzinfo is not None else at.replace(tzinfo=CST)


def _state_at(conn: Connection, licence_id: str, at: datetime) -> tuple[str, int, str | None] | None:
    row = conn.execute(_AS_OF, {"licence_id": licence_id, "at": at}).first()
    return (row[0], row[1], row[2]) if row is not None else None


def as_of(conn: Connection, view: dict[str, Any], licence_id: str, holder_licence_id: str | None, at: datetime) -> None:
    """Turn a public view (of one version) into the view as of ``at``: status, labels, reason, the
    version current then, and the holder's status then."""
    at = moment(at)
    found = _state_at(conn, licence_id, at)
    version = view["version"]
    if found is None or version > found[1]:
        status, (zh, en), reason = "unknown", NOT_YET_ISSUED, None
    else:
        state, current, reason = found
        view["current_version"] = current
        if version < current:
            status = st.SUPERSEDED
        elif state in (st.REVOKED, st.SUSPENDED):
            status = state
        elif view["valid_until"] is not None and at.astimezone(CST).date().isoformat() > view["valid_until"]:
            status = st.EXPIRED
        else:
            status = st.VALID
        zh, en = st.LABELS[status]
    if view.get("genuine", True):  # a seal refused for key compromise stays refused at every moment
        view.update(status_label=zh, status_label_en=en)
    view["status"] = status
    view["state_reason"] = reason if status in (st.REVOKED, st.SUSPENDED) else None
    if status != st.REVOKED:
        view["revoke_kind"] = None
    view["status_at"] = at.astimezone(CST).isoformat()
    view["status_at_local"] = f"{at.astimezone(CST):%Y-%m-%d %H:%M}"
    if holder_licence_id is not None:
        holder = _state_at(conn, holder_licence_id, at)
        view["holder_status"] = holder[0] if holder else None
        words = holder_label(view["holder_status"], None)
        view["holder_status_label"], view["holder_status_label_en"] = words or (None, None)
