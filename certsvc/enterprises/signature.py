"""Business-licence-based signatures: an enterprise signs its own PDF with its certificate."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlmodel import Session

from certsvc import audit
from certsvc.context import Context
from certsvc.core.clock import CST
from certsvc.db.models import Enterprise
from certsvc.db.session import session_scope
from certsvc.enterprises.standing import refuse_unless_in_good_standing
from certsvc.errors import Conflict, Invalid, NotFound
from signing.pipeline import sign
from signing.probe import PdfProbe, probe_pdf
from signing.seal import seal_code, seal_png
from verify.report import VerifyError
from verify.trust import OwnerKind
from verify.workers import default_pool

SEAL_SIZE = 120.0
MARGIN = 36.0


def _probe(ctx: Context, data: bytes) -> PdfProbe:
    try:
        return default_pool().call(probe_pdf, (data,), timeout_s=ctx.settings.verify_timeout_s)
    except VerifyError as e:
        return PdfProbe(False, f"the PDF could not be read in time: {e.diagnostics()}")


def _refuse_if_certified(probe: PdfProbe) -> None:
    """409 for a file whose certification (DocMDP level 1 or 2) forbids the new signature field
    signing would add: the issuer's seal would no longer verify."""
    if not probe.new_field_forbidden:
        return
    allowed = "no changes at all" if probe.docmdp_level == 1 else "only filling in its existing fields"
    advice = "Sign the original document instead"
    if probe.docmdp_level == 2 and probe.empty_signature_fields:
        advice += (
            ", or sign in a signature field its issuer left empty ("
            + ", ".join(probe.empty_signature_fields[:5])
            + ") with a tool that fills existing fields"
        )
    raise Conflict(
        f"file: the document is certified by its issuer and allows {allowed} (DocMDP level {probe.docmdp_level}); "
        f"a new signature field would break the issuer's seal. {advice}.",
        field="file",
    )


async def sign_for_enterprise(ctx: Context, ent: Enterprise, data: bytes) -> bytes:
    """Seal an enterprise's own PDF with its key; the file is probed in a worker first, as it is untrusted."""
    with Session(ctx.engine) as s:
        refuse_unless_in_good_standing(s, ent, "sign")  # 403 while its business licence is suspended or revoked
    probe = await asyncio.to_thread(_probe, ctx, data)
    if not probe.ok:
        raise Invalid(f"file: {probe.problem}", field="file")
    _refuse_if_certified(probe)
    with Session(ctx.engine) as s:
        try:
            cert = ctx.keyring.current(s, OwnerKind.ENTERPRISE, ent.id)
        except LookupError as e:
            raise NotFound("this enterprise has no signing certificate; its business licence is missing") from e
    x1, y1, x2, _y2 = probe.last_page_box
    size = min(SEAL_SIZE, (x2 - x1) / 3)
    rect = (x2 - MARGIN - size, y1 + MARGIN, x2 - MARGIN, y1 + MARGIN + size)
    n = 1
    while f"EnterpriseSignature{n}" in probe.signature_fields:
        n += 1
    when = datetime.now(CST)
    try:
        signed = await sign(
            data,
            ctx.keyring.signer(cert),
            field_name=f"EnterpriseSignature{n}",
            rect=rect,
            page=probe.pages - 1,
            reason=f"{ent.name} 电子营业执照签章",
            lines=[ent.name, f"签章时间 {when:%Y-%m-%d %H:%M}"],
            seal_image=seal_png(ent.name, "电子营业执照签章", seal_code(ent.uscc, ent.id or 0)),
        )
    except Exception as e:  # a file pyHanko cannot write into is a bad upload
        raise Invalid(f"file: the PDF cannot be signed: {type(e).__name__}: {str(e)[:200]}", field="file") from e
    with session_scope(ctx.engine) as s:
        audit.record(
            s,
            "enterprise.sign",
            actor_kind="enterprise",
            actor_id=ent.id,
            subject_kind="enterprise",
            subject_id=ent.id,
            details={"kid": cert.kid, "pages": probe.pages, "bytes": len(data)},
        )
    return signed
