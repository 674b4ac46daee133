"""The service's certificate authority: a long-lived root and the certificates it issues.

Certificates are assembled with asn1crypto and signed through the key backend, so that the
root key may live in a file or in a PKCS#11 token without this code knowing which.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, core
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys.backend import KeyBackend

ROOT_YEARS = 30
SEAL_YEARS = 10
DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"
TIME_STAMPING_EKU = "time_stamping"


@dataclass(frozen=True)
class Publication:
    """Where relying parties fetch what a certificate points to: its issuer's CRL (CRL distribution
    point) and its issuer's certificate (AIA caIssuers). Either may be absent (older certificates)."""

    crl_url: str | None = None
    issuer_cert_url: str | None = None

    def extensions(self) -> list[dict]:
        exts: list[dict] = []
        if self.crl_url:
            uri = asn1_x509.GeneralName({"uniform_resource_identifier": self.crl_url})
            exts.append(
                {
                    "extn_id": "crl_distribution_points",
                    "critical": False,
                    "extn_value": [{"distribution_point": {"full_name": [uri]}}],
                }
            )
        if self.issuer_cert_url:
            uri = asn1_x509.GeneralName({"uniform_resource_identifier": self.issuer_cert_url})
            exts.append(
                {
                    "extn_id": "authority_information_access",
                    "critical": False,
                    "extn_value": [{"access_method": "ca_issuers", "access_location": uri}],
                }
            )
        return exts


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
    publication: Publication = Publication(),
    time_stamping: bool = False,
) -> x509.Certificate:
    """Generate (unless given) a key under ``key_label`` and certify it for signing documents, or
    with ``time_stamping`` for a time-stamping authority (RFC 3161: the only, critical, EKU)."""
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
                "critical": time_stamping,
                "extn_value": [TIME_STAMPING_EKU] if time_stamping else [DOCUMENT_SIGNING_EKU, "email_protection"],
            },
            *publication.extensions(),
        ],
    )


@dataclass(frozen=True)
class Revoked:
    """A CRL entry: the certificate's serial, the moment from which it is revoked, and why
    (an RFC 5280 reason: ``key_compromise``, ``cessation_of_operation``, …)."""

    serial: int
    revoked_from: datetime
    reason: str = "unspecified"


def build_crl(
    backend: KeyBackend,
    issuer_label: str,
    issuer_cert: x509.Certificate,
    revoked: Sequence[Revoked],
    *,
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """A DER CRL (v2, with CRL number and authority key id) signed through the key backend.

    Each entry's revocationDate and invalidityDate are its ``revoked_from``: the moment from which
    signatures by that key are not to be trusted, which is what validators compare with a
    signature's (time-stamped) time."""
    issuer = asn1_x509.Certificate.load(issuer_cert.public_bytes(serialization.Encoding.DER))
    sig_alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})

    def entry(r: Revoked) -> dict:
        when = r.revoked_from.astimezone(UTC).replace(microsecond=0)
        exts = [{"extn_id": "invalidity_date", "critical": False, "extn_value": when}]
        if r.reason != "unspecified":
            exts.insert(0, {"extn_id": "crl_reason", "critical": False, "extn_value": r.reason})
        return {
            "user_certificate": r.serial,
            "revocation_date": asn1_x509.Time({"utc_time": when}),
            "crl_entry_extensions": exts,
        }

    tbs = asn1_crl.TbsCertList(
        {
            "version": "v2",
            "signature": sig_alg,
            "issuer": issuer.subject,
            "this_update": asn1_x509.Time({"utc_time": this_update.astimezone(UTC).replace(microsecond=0)}),
            "next_update": asn1_x509.Time({"utc_time": next_update.astimezone(UTC).replace(microsecond=0)}),
            "revoked_certificates": [entry(r) for r in sorted(revoked, key=lambda r: r.serial)] or None,
            "crl_extensions": [
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": issuer.key_identifier},
                },
                {"extn_id": "crl_number", "critical": False, "extn_value": number},
            ],
        }
    )
    signature = backend.sign(issuer_label, tbs.dump())
    return asn1_crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": sig_alg, "signature": signature}
    ).dump()


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
