"""Business-licence-based signatures: an enterprise signs its own PDF with its certificate.

The upload is untrusted, so everything that reads it runs in a killable analysis worker, with
the time and memory limits of verification: the worker places the signature and digests the
document (:func:`signing.pipeline.prepare_sign`) without ever holding the key, and this process
signs that digest, checked against the returned bytes, and writes the CMS container in
(:func:`signing.pipeline.finish_signature`). The same split works for file and PKCS#11 keys.

Where the signature goes (page and position, or a named empty field) is checked in the worker
against the document; a placement it cannot take is a 422 naming the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from certsvc import audit
from certsvc.capacity import Caller
from certsvc.context import Context
from certsvc.core.clock import CST, now
from certsvc.db.models import Enterprise
from certsvc.db.session import session_scope
from certsvc.enterprises.standing import refuse_unless_in_good_standing
from certsvc.errors import Conflict, Invalid, NotFound, Unavailable
from certsvc.inputs import text_problem
from signing.pipeline import (
    Placement,
    PreparedSignature,
    SignRefused,
    SignRequest,
    finish_signature,
    prepare_sign,
    sign_request,
)
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
        if result.field != "file":
            raise Invalid(result.problem, field=result.field)  # the message starts with the parameter's name
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


TEXT_MAX = 200
_PDF_SUFFIX = re.compile(r"\.pdf$", re.IGNORECASE)


@dataclass(frozen=True)
class SignOptions:
    """How to sign: where (:class:`~signing.placement.Placement`), and the signature's reason and location."""

    placement: Placement = Placement()
    reason: str | None = None
    location: str | None = None


def _text(value: str | None, field: str) -> str | None:
    """A reason or location: stripped, at most :data:`TEXT_MAX` characters, no control characters."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > TEXT_MAX:
        raise Invalid(f"{field}: at most {TEXT_MAX} characters, not {len(value)}", field=field)
    problem = text_problem(value)
    if problem:
        raise Invalid(f"{field}: {problem}", field=field)
    return value


def signed_filename(uploaded: str | None) -> str:
    """The download's name: the upload's name (its last path part, without ``.pdf``) + ``-signed.pdf``."""
    name = re.split(r"[/\\]", uploaded or "")[-1]
    stem = _PDF_SUFFIX.sub("", "".join(c for c in name if c.isprintable())).strip(" .")[:100]
    return f"{stem or 'document'}-signed.pdf"


async def sign_for_enterprise(
    ctx: Context, ent: Enterprise, data: bytes, options: SignOptions = SignOptions()
) -> bytes:
    """Sign an enterprise's own PDF with its key where ``options`` say (by default at the lower right of
    the last page, beside any signature already there); the file is read only in an analysis worker."""
    reason = _text(options.reason, "reason") or f"{ent.name} 电子营业执照签章"
    location = _text(options.location, "location")
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
        reason=reason,
        lines=[ent.name, f"签章时间 {when:%Y-%m-%d %H:%M}"],
        seal_image=seal_png(ent.name, "电子营业执照签章", seal_code(ent.uscc, ent.id or 0)),
        ltv=(ltv := ctx.keyring.ltv(cert)),
        placement=options.placement,
        location=location,
    )
    caller = Caller(f"enterprise:{ent.id}", authenticated=True)
    prepared = await ctx.capacity.run(caller, _prepare, ctx, data, request)
    try:
        signed = await finish_signature(prepared, signer, tsa=ltv.tsa)
    except ValueError as e:  # the worker's answer does not add up: never sign it
        raise Invalid(f"file: the PDF cannot be signed: {e}", field="file") from e
    p = options.placement
    with session_scope(ctx.engine) as s:
        audit.record(
            s,
            "enterprise.sign",
            actor_kind="enterprise",
            actor_id=ent.id,
            subject_kind="enterprise",
            subject_id=ent.id,
            details={"kid": cert.kid, "bytes": len(data), "page": p.page, "field": p.field, "x": p.x_mm, "y": p.y_mm},
        )
    return signed
