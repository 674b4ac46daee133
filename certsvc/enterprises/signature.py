"""Business-licence-based signatures: an enterprise signs its own PDF with its certificate.

The upload is untrusted, so everything that reads it runs in a killable analysis worker, with
the time and memory limits of verification: the worker places the signature and digests the
document (:func:`signing.pipeline.prepare_sign`) without ever holding the key, and this process
signs that digest, checked against the returned bytes, and writes the CMS container in
(:func:`signing.pipeline.finish_signature`). The same split works for file and PKCS#11 keys.
"""

from __future__ import annotations

from sqlmodel import Session

from certsvc import audit
from certsvc.capacity import Caller
from certsvc.context import Context
from certsvc.core.clock import CST, now
from certsvc.db.models import Enterprise
from certsvc.db.session import session_scope
from certsvc.enterprises.standing import refuse_unless_in_good_standing
from certsvc.errors import Conflict, Invalid, NotFound, Unavailable
from signing.pipeline import PreparedSignature, SignRefused, SignRequest, finish_signature, prepare_sign, sign_request
from signing.probe import PdfProbe
from signing.seal import seal_code, seal_png
from verify.report import VerifierBusy, VerifyError
from verify.trust import OwnerKind


def _prepare(ctx: Context, data: bytes, request: SignRequest) -> PreparedSignature:
    """Blocking: :func:`prepare_sign` in a worker, killed past the time limit."""
    limit = ctx.settings.verify_timeout_s
    try:
        result = ctx.capacity.pool.call(prepare_sign, (data, request), timeout_s=limit)
    except VerifierBusy as e:
        raise Unavailable(e.diagnostics(), retry_after=limit) from e
    except VerifyError as e:  # over time, over memory, or crashed: the file's doing
        raise Invalid(f"file: the PDF could not be prepared for signing: {e.diagnostics()}", field="file") from e
    if isinstance(result, SignRefused):
        if result.probe is not None:
            _refuse_if_certified(result.probe)
        raise Invalid(f"file: {result.problem}", field="file")
    return result


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
    """Sign an enterprise's own PDF with its key; the file is read only in an analysis worker."""
    with Session(ctx.engine) as s:
        refuse_unless_in_good_standing(s, ent, "sign")  # 403 while its business licence is suspended or revoked
    with Session(ctx.engine) as s:
        try:
            cert = ctx.keyring.current(s, OwnerKind.ENTERPRISE, ent.id)
        except LookupError as e:
            raise NotFound("this enterprise has no signing certificate; its business licence is missing") from e
    signer = ctx.keyring.signer(cert)
    when = now().astimezone(CST)
    request = await sign_request(
        signer,
        reason=f"{ent.name} 电子营业执照签章",
        lines=[ent.name, f"签章时间 {when:%Y-%m-%d %H:%M}"],
        seal_image=seal_png(ent.name, "电子营业执照签章", seal_code(ent.uscc, ent.id or 0)),
        ltv=(ltv := ctx.keyring.ltv(cert)),
    )
    caller = Caller(f"enterprise:{ent.id}", authenticated=True)
    prepared = await ctx.capacity.run(caller, _prepare, ctx, data, request)
    try:
        signed = await finish_signature(prepared, signer, tsa=ltv.tsa)
    except ValueError as e:  # the worker's answer does not add up: never sign it
        raise Invalid(f"file: the PDF cannot be signed: {e}", field="file") from e
    with session_scope(ctx.engine) as s:
        audit.record(
            s,
            "enterprise.sign",
            actor_kind="enterprise",
            actor_id=ent.id,
            subject_kind="enterprise",
            subject_id=ent.id,
            details={"kid": cert.kid, "bytes": len(data)},
        )
    return signed
