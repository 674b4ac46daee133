"""Fast assembly of PAdES CMS signature containers.

pyHanko builds every CMS ``SignedData`` through asn1crypto object trees, which costs ≈25 ms per
signature, almost all of it re-encoding parts that are the same for every signature of a given
signer (certificates, signer identifier, the signing-certificate-v2 attribute). Here those parts
are DER-encoded once per signer, by pyHanko itself, and only the message digest and the signature
value change per document. The private key operation still goes through ``Signer.async_sign_raw``,
so file keys and PKCS#11 keys work alike.

Signers with custom attribute providers, attribute certificates, or whose signed attributes turn
out not to depend on the digest alone fall back to pyHanko's own ``async_sign``.
"""

import hashlib
import threading
from dataclasses import dataclass

from asn1crypto import algos, cms, x509
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from signing.der import tlv as _tlv
from signing.tsa import LocalTsa

__all__ = ["cms_size_bound", "pades_cms"]


@dataclass(frozen=True)
class _Template:
    attrs_head: bytes
    """Signed attributes (SET OF content) up to the message digest value."""
    attrs_tail: bytes
    """Signed attributes after the message digest value."""
    signer_info_head: bytes
    """version, sid, digestAlgorithm (DER, concatenated)."""
    signature_algorithm: bytes
    signed_data_head: bytes
    """version, digestAlgorithms, encapContentInfo, [0] certificates (DER, concatenated)."""


_cache: dict[tuple, _Template | None] = {}
_lock = threading.Lock()


def _key(signer: Signer, md: str) -> tuple | None:
    cert = signer.signing_cert
    if (
        cert is None
        or signer.attribute_certs
        or signer.unsigned_attr_prov_spec is not None
        or signer.signed_attr_prov_spec is not None
    ):
        return None
    registry = tuple(sorted(hashlib.sha256(c.dump()).hexdigest() for c in (signer.cert_registry or ())))
    return (type(signer), hashlib.sha256(cert.dump()).digest(), registry, bool(signer.embed_roots), md)


async def _build(signer: Signer, md: str) -> _Template | None:
    digest_len = hashlib.new(md).digest_size
    probes = (b"\x00" * digest_len, b"\xff" * digest_len)
    dumps = []
    for probe in probes:
        attrs = await signer.signed_attrs(probe, md, attr_settings=PdfCMSSignedAttributes(), use_pades=True)
        dumps.append(attrs.dump())
    a, b = dumps
    marker = b"\x04" + bytes([digest_len])
    i = a.find(marker + probes[0])
    if (
        i < 0
        or len(a) != len(b)
        or a[:i] != b[:i]
        or a[i + 2 + digest_len :] != b[i + 2 + digest_len :]
        or a[0] != 0x31
    ):
        return None  # attributes depend on more than the digest (e.g. a signing time)
    start = 2 if a[1] < 0x80 else 2 + (a[1] & 0x7F)  # skip the SET tag and length
    cert = signer.signing_cert
    if cert is None:  # _key() refuses such signers before they get here
        return None
    sid = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": cert.issuer, "serial_number": cert.serial_number}
            )
        }
    )
    digest_alg = algos.DigestAlgorithm({"algorithm": md})
    certs = list(signer.cert_registry or ())
    if not signer.embed_roots:
        certs = [c for c in certs if c.self_signed == "no"]
    cert_ders = {c.dump(): None for c in certs}
    cert_ders[cert.dump()] = None
    return _Template(
        attrs_head=a[start : i + 2],
        attrs_tail=a[i + 2 + digest_len :],
        signer_info_head=b"\x02\x01\x01" + sid.dump() + digest_alg.dump(),
        signature_algorithm=signer.get_signature_mechanism_for_digest(md).dump(),
        signed_data_head=b"\x02\x01\x01"
        + cms.DigestAlgorithms([digest_alg]).dump()
        + cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
        + _tlv(0xA0, b"".join(cert_ders)),
    )


def _max_signature_len(cert: x509.Certificate) -> int:
    info = cert.public_key
    algo, bits = info.algorithm, info.bit_size
    if algo == "rsa" or algo == "rsassa_pss":
        return (bits + 7) // 8
    if algo in ("ec", "dsa"):
        return 2 * ((bits + 7) // 8 + 3) + 4  # DER SEQUENCE of two INTEGERs, worst case
    return 1024


async def _template_for(signer: Signer, md: str) -> _Template | None:
    key = _key(signer, md)
    if key is None:
        return None
    if key not in _cache:
        template = await _build(signer, md)
        with _lock:
            _cache[key] = template
    return _cache[key]


async def cms_size_bound(signer: Signer, md: str = "sha256", tsa: LocalTsa | None = None) -> int | None:
    """Upper bound of the DER size :func:`pades_cms` produces for ``signer`` (with a time-stamp
    from ``tsa``), or ``None`` if it would fall back to pyHanko (whose size is unknown in advance)."""
    template = await _template_for(signer, md)
    cert = signer.signing_cert
    if template is None or cert is None:
        return None
    digest_len = hashlib.new(md).digest_size
    fixed = (
        len(template.attrs_head)
        + digest_len
        + len(template.attrs_tail)
        + len(template.signer_info_head)
        + len(template.signature_algorithm)
        + len(template.signed_data_head)
    )
    stamp = tsa.token_size_bound() + 32 if tsa is not None else 0  # the token and its attribute
    return fixed + _max_signature_len(cert) + 64 + stamp  # tags and lengths of the enclosing structures


_SIGNATURE_TIME_STAMP = b"\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x02\x0e"  # id-aa-signatureTimeStampToken


def _unsigned_time_stamp(tsa: LocalTsa, signature: bytes) -> bytes:
    """``[1] unsignedAttrs`` with a signature time-stamp token over ``signature`` (RFC 3161 annex A)."""
    token = tsa.token(hashlib.sha256(signature).digest())
    return _tlv(0xA1, _tlv(0x30, _SIGNATURE_TIME_STAMP + _tlv(0x31, token)))


async def pades_cms(signer: Signer, document_digest: bytes, md: str = "sha256", tsa: LocalTsa | None = None) -> bytes:
    """DER of a detached CMS ``ContentInfo`` (PAdES B-B, as pyHanko's ``async_sign(...,
    use_pades=True)`` makes it) over ``document_digest``; with ``tsa`` it carries a signature
    time-stamp (PAdES B-T)."""
    template = await _template_for(signer, md)
    if template is None:
        info = await signer.async_sign(
            document_digest, md, use_pades=True, signed_attr_settings=PdfCMSSignedAttributes(), timestamper=tsa
        )
        return info.dump()
    attrs = template.attrs_head + document_digest + template.attrs_tail
    signature = await signer.async_sign_raw(_tlv(0x31, attrs), md)
    unsigned = _unsigned_time_stamp(tsa, signature) if tsa is not None else b""
    signer_info = _tlv(
        0x30,
        template.signer_info_head + _tlv(0xA0, attrs) + template.signature_algorithm + _tlv(0x04, signature) + unsigned,
    )
    signed_data = _tlv(0x30, template.signed_data_head + _tlv(0x31, signer_info))
    oid_signed_data = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"
    return _tlv(0x30, oid_signed_data + _tlv(0xA0, signed_data))
