"""The fast CMS container: same structure as pyHanko's, valid for EC and RSA, safe fallback."""

import hashlib
import io

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_cms import SimpleSigner
from pyhanko.sign.validation import async_validate_pdf_signature

from signing import cms as fast
from signing.layout import SEAL_RECT, render_licence_pdf
from signing.seal import seal_png
from signing.seal_pdf import run_sync, seal_pdf

DIGEST = hashlib.sha256(b"certsvc").digest()


def _validate(sig, vc):
    """pyHanko's validation via run_sync: its sync wrapper fails when a loop already runs."""
    return run_sync(async_validate_pdf_signature(sig, vc))


def _parts(info: cms.ContentInfo) -> tuple:
    sd = info["content"]
    si = sd["signer_infos"][0]
    return (
        sd["version"].native,
        sd["digest_algorithms"].dump(),
        sd["encap_content_info"].dump(),
        sorted(c.dump() for c in sd["certificates"]),
        si["version"].native,
        si["sid"].dump(),
        si["digest_algorithm"].dump(),
        si["signed_attrs"].dump(),
        si["signature_algorithm"].dump(),
    )


@pytest.mark.parametrize("which", ["pki", "rsa_pki"])
def test_fast_cms_has_pyhankos_structure(which: str, request) -> None:
    signer = request.getfixturevalue(which).signer
    mine = cms.ContentInfo.load(run_sync(fast.pades_cms(signer, DIGEST)))
    theirs = run_sync(signer.async_sign(DIGEST, "sha256", use_pades=True))
    assert _parts(mine) == _parts(theirs)


@pytest.mark.parametrize("which", ["pki", "rsa_pki"])
def test_size_bound_covers_the_container(which: str, request) -> None:
    signer = request.getfixturevalue(which).signer
    size = len(run_sync(fast.pades_cms(signer, DIGEST)))
    bound = run_sync(fast.cms_size_bound(signer))
    assert bound is not None and size <= bound <= size + 200


def test_rsa_sealed_pdf_validates(rsa_pki, licence) -> None:
    pdf = seal_pdf(
        render_licence_pdf(licence),
        rsa_pki.signer,
        field_name="Seal",
        seal_png=seal_png(licence.seal_name),
        rect=SEAL_RECT,
        reason="签发",
        bytes_reserved=None,
    )
    [sig] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = _validate(sig, rsa_pki.validation_context())
    assert status.intact and status.valid


def test_custom_attribute_providers_fall_back_to_pyhanko(pki, licence) -> None:
    signer = SimpleSigner(
        signing_cert=pki.signer.signing_cert, signing_key=pki.signer.signing_key, cert_registry=pki.signer.cert_registry
    )
    # any custom provider spec (here: pyHanko's own default one) disables the template path
    signer.signed_attr_prov_spec = pki.signer._signed_attr_provider_spec(
        attr_settings=fast.PdfCMSSignedAttributes(), use_cades=True
    )
    assert run_sync(fast.cms_size_bound(signer)) is None
    pdf = seal_pdf(
        render_licence_pdf(licence),
        signer,
        field_name="Seal",
        seal_png=seal_png(licence.seal_name),
        rect=SEAL_RECT,
        reason="签发",
        bytes_reserved=None,
    )
    [sig] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert _validate(sig, pki.validation_context()).intact
