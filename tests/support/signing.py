"""A throwaway ECDSA P-256 CA and seal certificate, and sample documents, for the signing tests."""

import datetime as dt
import hashlib
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.models import LicenceDocument, QrSpec, ReceiptDocument, SealJob
from signing.payload import KIND_LICENCE, KIND_RECEIPT, Claims
from signing.pipeline import SealKey

RARE_NAME = "广州市䶮堃喆犇淼燊昇餐饮管理有限公司"


@dataclass(frozen=True)
class Pki:
    root: asn1_x509.Certificate
    leaf: asn1_x509.Certificate
    signer: SimpleSigner
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    def seal_key(self) -> SealKey:
        """The seal key as the document pipeline takes it (ECDSA keys only: the QR is ES256)."""
        assert isinstance(self.key, ec.EllipticCurvePrivateKey)
        key = self.key
        kid = hashlib.sha256(self.leaf.dump()).hexdigest()[:16]
        return SealKey(kid, self.signer, lambda data: key.sign(data, ec.ECDSA(hashes.SHA256())))

    def validation_context(self) -> ValidationContext:
        return ValidationContext(trust_roots=[self.root], allow_fetching=False)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certsvc test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(leaf_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> Pki:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("certsvc test root")
    root = _cert(root_name, root_name, root_key.public_key(), root_key, ca=True)
    leaf = _cert(_name("广州市天河区市场监督管理局"), root_name, leaf_key.public_key(), root_key, ca=False)
    root_asn1 = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    leaf_asn1 = asn1_x509.Certificate.load(leaf.public_bytes(serialization.Encoding.DER))
    key_asn1 = asn1_keys.PrivateKeyInfo.load(
        leaf_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    signer = SimpleSigner(
        signing_cert=leaf_asn1, signing_key=key_asn1, cert_registry=SimpleCertificateStore.from_certs([root_asn1])
    )
    return Pki(root=root_asn1, leaf=leaf_asn1, signer=signer, key=leaf_key)


def qr_url(length: int) -> str:
    base = "https://certsvc.example.gov.cn/v/"
    body = ("eyJraWQiOiJBQkNEMTIzNCIsImFsZyI6IkVTMjU2In0_" * 10)[: length - len(base)]
    return base + body


def seal_job(doc: LicenceDocument | ReceiptDocument, key: SealKey) -> SealJob:
    """The job that seals ``doc`` as the service does (a licence reserves the mark field)."""
    is_licence = isinstance(doc, LicenceDocument)
    claims = Claims(
        kind=KIND_LICENCE if is_licence else KIND_RECEIPT,
        identifier=doc.identifier if isinstance(doc, LicenceDocument) else doc.application_number,
        holder_uscc=doc.holder_uscc if isinstance(doc, LicenceDocument) else doc.applicant_uscc,
        type_code="JY" if is_licence else "HZ",
        valid_from=doc.valid_from if isinstance(doc, LicenceDocument) else doc.received_date,
        valid_until=doc.valid_until if isinstance(doc, LicenceDocument) else None,
        version=doc.version if isinstance(doc, LicenceDocument) else 1,
        doc_hash=b"\0" * 8,
        status_index=7 if is_licence else None,
        issuer="11100000000013127D",
    )
    return SealJob(
        document=doc,
        signer_kid=key.kid,
        reason="电子证照签发" if is_licence else "受理回执签章",
        qr=QrSpec(claims, "https://certsvc.example.gov.cn", "v" if is_licence else "r"),
        reserve_mark=is_licence,
    )
