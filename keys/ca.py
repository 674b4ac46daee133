"""The service's certificate authority: a long-lived root and the certificates it issues.

Certificates are assembled with asn1crypto and signed through the key backend, so that the
root key may live in a file or in a PKCS#11 token without this code knowing which.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys.backend import KeyBackend

ROOT_YEARS = 30
SEAL_YEARS = 10
DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"


@dataclass(frozen=True)
class Subject:
    """Who a certificate names: display name, and the USCC when it is an organisation."""

    common_name: str
    organization: str | None = None
    uscc: str | None = None
    unit: str | None = None

    def to_name(self) -> asn1_x509.Name:
        attrs: dict[str, str] = {"country_name": "CN"}
        if self.organization:
            attrs["organization_name"] = self.organization
        if self.unit:
            attrs["organizational_unit_name"] = self.unit
        if self.uscc:
            # organizationIdentifier (2.5.4.97) with the ETSI EN 319 412-1 semantics prefix.
            attrs["organization_identifier"] = f"NTRCN-{self.uscc}"
        attrs["common_name"] = self.common_name
        return asn1_x509.Name.build(attrs, use_printable=False)


def kid_of(cert_der: bytes) -> str:
    """``kid`` as in the EU DCC: the first 8 bytes of SHA-256 of the certificate, in hex."""
    return hashlib.sha256(cert_der).digest()[:8].hex()


def _spki(public_key: ec.EllipticCurvePublicKey) -> asn1_keys.PublicKeyInfo:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return asn1_keys.PublicKeyInfo.load(der)


def _key_id(spki: asn1_keys.PublicKeyInfo) -> bytes:
    return hashlib.sha1(spki["public_key"].contents, usedforsecurity=False).digest()


def _build(
    backend: KeyBackend,
    issuer_label: str,
    issuer_name: asn1_x509.Name,
    issuer_key_id: bytes,
    subject: asn1_x509.Name,
    spki: asn1_keys.PublicKeyInfo,
    not_before: datetime,
    not_after: datetime,
    extensions: list[dict],
) -> x509.Certificate:
    exts = [
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(spki)},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": issuer_key_id},
        },
        *extensions,
    ]
    sig_alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": int.from_bytes(secrets.token_bytes(16), "big") >> 1,
            "signature": sig_alg,
            "issuer": issuer_name,
            "validity": {
                "not_before": asn1_x509.Time({"utc_time": not_before}),
                "not_after": asn1_x509.Time({"general_time": not_after})
                if not_after.year >= 2050
                else asn1_x509.Time({"utc_time": not_after}),
            },
            "subject": subject,
            "subject_public_key_info": spki,
            "extensions": exts,
        }
    )
    signature = backend.sign(issuer_label, tbs.dump())
    cert = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": sig_alg, "signature_value": signature})
    return x509.load_der_x509_certificate(cert.dump())


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def make_root(backend: KeyBackend, label: str, subject: Subject) -> x509.Certificate:
    """Create the root key and its self-signed certificate."""
    public = backend.generate(label)
    spki = _spki(public)
    name = subject.to_name()
    now = _now()
    return _build(
        backend,
        label,
        name,
        _key_id(spki),
        name,
        spki,
        now - timedelta(minutes=5),
        now + timedelta(days=365 * ROOT_YEARS),
        [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True, "path_len_constraint": 0}},
            {"extn_id": "key_usage", "critical": True, "extn_value": {"key_cert_sign", "crl_sign"}},
        ],
    )


def issue_leaf(
    backend: KeyBackend,
    root_label: str,
    root_cert: x509.Certificate,
    key_label: str,
    subject: Subject,
    *,
    years: int = SEAL_YEARS,
    public_key: ec.EllipticCurvePublicKey | None = None,
) -> x509.Certificate:
    """Generate (unless given) a key under ``key_label`` and certify it for signing documents."""
    public = public_key or backend.generate(key_label)
    spki = _spki(public)
    root_asn1 = asn1_x509.Certificate.load(root_cert.public_bytes(serialization.Encoding.DER))
    now = _now()
    not_after = min(now + timedelta(days=365 * years), root_cert.not_valid_after_utc)
    return _build(
        backend,
        root_label,
        root_asn1.subject,
        root_asn1.key_identifier,
        subject.to_name(),
        spki,
        now - timedelta(minutes=5),
        not_after,
        [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
            {
                "extn_id": "key_usage",
                "critical": True,
                "extn_value": {"digital_signature", "non_repudiation"},
            },
            {
                "extn_id": "extended_key_usage",
                "critical": False,
                "extn_value": [DOCUMENT_SIGNING_EKU, "email_protection"],
            },
        ],
    )


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The certificate as asn1crypto reads it, which pyHanko needs."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def to_pem(cert: x509.Certificate) -> str:
    """The certificate in PEM, as the database and the trust list keep it."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def from_pem(pem: str) -> x509.Certificate:
    """A certificate from its PEM form, as the database and the trust list keep it."""
    return x509.load_pem_x509_certificate(pem.encode())


def uscc_of(cert: x509.Certificate) -> str | None:
    """The USCC in a certificate's organizationIdentifier, if it carries one."""
    oid = x509.ObjectIdentifier("2.5.4.97")
    for attr in cert.subject.get_attributes_for_oid(oid):
        value = str(attr.value)
        return value.removeprefix("NTRCN-")
    return None


_ = core  # asn1crypto.core is imported for its side effect of registering types
