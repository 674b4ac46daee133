"""Expiry as an event: the moment a licence's current version passes its ``valid_until`` is audited once.

Expiry itself needs no stored state: every page and verdict derives it from ``valid_until``
(:mod:`certsvc.licences.status`), the status list has no code for it (an offline verifier reads the
end of validity from the QR), and a renewal makes the licence valid again with a new version. What
the sweep adds is the record: ``licence.expire`` in the audit log, exactly once per version,
marked by ``licence_version.expiry_recorded_at`` (compare-and-set).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.core.clock import CST
from certsvc.db.models import Licence, LicenceVersion
from certsvc.licences import status as st

_BATCH = 500


def sweep_licence_expiry(s: Session, at: datetime) -> int:
    """Record the expiry of every current version whose ``valid_until`` has passed as of ``at`` (China's
    calendar), of licences not revoked; each version once, each audited."""
    day = at.astimezone(CST).date()
    rows = s.exec(
        select(
            col(LicenceVersion.id),
            col(LicenceVersion.licence_id),
            col(LicenceVersion.version),
            col(LicenceVersion.valid_until),
        )
        .join(Licence, col(Licence.id) == col(LicenceVersion.licence_id))
        .where(
            col(LicenceVersion.version) == col(Licence.current_version),
            col(LicenceVersion.superseded_at).is_(None),
            col(LicenceVersion.expiry_recorded_at).is_(None),
            col(LicenceVersion.valid_until) < day,
            col(Licence.state) != st.REVOKED,
        )
        .order_by(col(LicenceVersion.id))
        .limit(_BATCH)
    ).all()
    entries = []
    for version_id, licence_id, version, valid_until in rows:
        changed = s.execute(
            update(LicenceVersion)
            .where(
                col(LicenceVersion.id) == version_id,
                col(LicenceVersion.expiry_recorded_at).is_(None),
                col(LicenceVersion.superseded_at).is_(None),
            )
            .values(expiry_recorded_at=at)
        )
        if getattr(changed, "rowcount", 0) == 1:
            details = {"version": version, "valid_until": valid_until.isoformat() if valid_until else None}
            entries.append(audit.Entry("licence.expire", "system", None, "licence", licence_id, details))
    if entries:
        audit.record_many(s, entries)
    return len(entries)
