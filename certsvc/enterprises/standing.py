"""An enterprise stands or falls with its business licence (一注到底).

Revoked (撤销, 吊销, 注销): in the transaction that revokes the business licence, its tokens and
portal sessions end, its grants end, its signing certificate is revoked from that moment, and the
departments that issued its other licences are told. Suspended: the enterprise may read but not
sign or grant; nothing is undone, so resuming the licence restores everything at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.db.atomic import changed_rows
from certsvc.db.models import ApiCredential, Enterprise, Grant, Licence, SigningCertificate
from certsvc.errors import Forbidden
from certsvc.events.outbox import emit
from certsvc.keyring import CESSATION, Keyring
from certsvc.licences import status as st
from verify.trust import OwnerKind

HOLDER_LABELS = {
    st.SUSPENDED: ("持证主体营业执照已暂停", "The holder's business licence is suspended"),
    st.REVOKED: ("持证主体营业执照已撤销", "The holder's business licence is revoked"),
}


def holder_label(state: str | None, revoke_kind: str | None) -> tuple[str, str] | None:
    """Words for a holder whose business licence is not valid (None when it is, or when there is none)."""
    if state not in HOLDER_LABELS:
        return None
    zh, en = HOLDER_LABELS[state]
    if state == st.REVOKED and revoke_kind:
        zh = f"持证主体营业执照已{revoke_kind}"
    return zh, en


def business_licence_of(s: Session, ent: Enterprise) -> Licence | None:
    """The enterprise's business licence, if it was registered by one."""
    return s.get(Licence, ent.business_licence_id) if ent.business_licence_id else None


def ended_words(s: Session, ent: Enterprise) -> str | None:
    """Why the enterprise's credentials ended, if they ended with its business licence."""
    lic = business_licence_of(s, ent)
    if lic is None or lic.state != st.REVOKED:
        return None
    return (
        f"the enterprise's business licence was revoked ({lic.revoke_kind or '撤销'}, "
        f"{lic.updated_at:%Y-%m-%d %H:%M} UTC): its tokens, sessions and share links have ended"
    )


def refuse_unless_in_good_standing(s: Session, ent: Enterprise, action: str) -> None:
    """403 when the enterprise's business licence is suspended (read-only) or revoked; ``action``
    is what was refused."""
    lic = business_licence_of(s, ent)
    if lic is None or lic.state == st.VALID:
        return
    if lic.state == st.SUSPENDED:
        raise Forbidden(
            f"the enterprise's business licence is suspended (营业执照已暂停): "
            f"it may read but not {action} until the licence is resumed"
        )
    raise Forbidden(f"the enterprise's business licence was revoked ({lic.revoke_kind or '撤销'}): it cannot {action}")


def end_tokens(s: Session, ent: Enterprise, at: datetime, reason: str | None = None) -> int:
    """End every token of the enterprise still in use (the legal representative's and its staff's) at
    ``at``, with the ``reason`` a 401 gives; how many ended."""
    return changed_rows(
        s,
        update(ApiCredential)
        .where(
            col(ApiCredential.kind) == "enterprise",
            col(ApiCredential.owner_id) == ent.id,
            col(ApiCredential.revoked_at).is_(None),
        )
        .values(revoked_at=at, revoke_reason=reason),
    )


def end_enterprise(s: Session, keyring: Keyring, business_licence: Licence, at: datetime) -> None:
    """The cascade of a revoked business licence, in the caller's transaction (see the module)."""
    ent = s.exec(select(Enterprise).where(Enterprise.business_licence_id == business_licence.id)).first()
    if ent is None:
        return
    tokens = end_tokens(s, ent, at)
    grants = changed_rows(
        s,
        update(Grant).where(col(Grant.enterprise_id) == ent.id, col(Grant.revoked_at).is_(None)).values(revoked_at=at),
    )
    keyring.revoke_from(
        s,
        at,
        col(SigningCertificate.owner_kind) == OwnerKind.ENTERPRISE.value,
        col(SigningCertificate.owner_id) == ent.id,
        reason=CESSATION,
    )
    kind = business_licence.revoke_kind
    audit.record(
        s,
        "enterprise.ended",
        actor_kind="system",
        subject_kind="enterprise",
        subject_id=ent.id,
        details={"business_licence": business_licence.id, "kind": kind, "tokens": tokens, "grants": grants},
    )
    others: dict[int, list[Licence]] = {}
    for lic in s.exec(select(Licence).where(Licence.holder_uscc == ent.uscc, Licence.id != business_licence.id)).all():
        others.setdefault(lic.department_id, []).append(lic)
    for dept_id, lics in sorted(others.items()):
        ids = [lic.id for lic in lics]
        told = {
            "holder_uscc": ent.uscc,
            "holder_name": ent.name,
            "business_licence_id": business_licence.id,
            "revoke_kind": kind,
            "reason": business_licence.state_reason,
            "licences": [{"licence_id": lic.id, "number": lic.number, "status": lic.state} for lic in lics],
        }
        # to the subscriptions of each department that issued the holder a licence (一注到底)
        emit(s, "holder.revoked", data=told, departments={dept_id}, order_key=business_licence.id)
        audit.record(
            s,
            "holder.revoked",
            actor_kind="system",
            subject_kind="department",
            subject_id=dept_id,
            details={
                "holder_uscc": ent.uscc,
                "business_licence": business_licence.id,
                "kind": kind,
                "reason": business_licence.state_reason,
                "licences": sorted(ids),
            },
        )
