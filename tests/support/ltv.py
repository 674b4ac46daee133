"""Long-term validation the way an outside validator does it: pyHanko's AdES validation (ETSI EN
319 102-1) with only the service's root trusted, nothing fetched, and revocation information
required — taken from the PDF's document security store, or from a CRL the test supplies."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.ades import ades_lta_validation, ades_with_time_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer


@dataclass(frozen=True)
class LtvResult:
    """One signature's AdES outcome: the indication, the time it was proven to exist (the
    signature time-stamp's), and whether that time-stamp was valid."""

    field: str
    indication: str
    best_signature_time: datetime | None
    timestamp_valid: bool


def dss_knowledge(pdf: bytes) -> LocalKnowledge:
    """The certificates and CRLs in the PDF's document security store (empty without one)."""
    reader = PdfFileReader(BytesIO(pdf))
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return LocalKnowledge()
    crls = [
        CRLContainer(asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL))) for ref in dss.crls
    ]
    return LocalKnowledge(known_crls=crls, known_certs=list(dss.load_certs()))


def _spec(root_der: bytes, knowledge: LocalKnowledge) -> SignatureValidationSpec:
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[asn1_x509.Certificate.load(root_der)]),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    return SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
        local_knowledge=knowledge,
    )


def with_time(
    pdf: bytes, root_der: bytes, *, crls: Sequence[bytes] | None = None, use_dss: bool = True
) -> list[LtvResult]:
    """AdES validation with time (the B-T/B-LT level) of every signature, offline: revocation data
    from the DSS (``use_dss``) and/or the given DER ``crls``."""
    knowledge = dss_knowledge(pdf) if use_dss else LocalKnowledge()
    if crls is not None:
        extra = [CRLContainer(asn1_crl.CertificateList.load(c)) for c in crls]
        knowledge = LocalKnowledge(known_crls=extra + knowledge.known_crls, known_certs=knowledge.known_certs)
    spec = _spec(root_der, knowledge)
    out = []
    for sig in PdfFileReader(BytesIO(pdf)).embedded_regular_signatures:
        res = asyncio.run(ades_with_time_validation(sig.signed_data, spec, raw_digest=sig.compute_digest()))
        ts = res.api_status.timestamp_validity if res.api_status is not None else None
        out.append(
            LtvResult(str(sig.field_name), str(res.ades_subindic), res.best_signature_time, bool(ts and ts.valid))
        )
    return out


def lta(pdf: bytes, root_der: bytes) -> list[LtvResult]:
    """AdES validation with long-term availability (B-LTA: document time-stamps as evidence) of
    every signature, offline, revocation data from the PDF only."""
    spec = PdfSignatureValidationSpec(_spec(root_der, LocalKnowledge()))
    out = []
    for sig in PdfFileReader(BytesIO(pdf)).embedded_regular_signatures:
        res = asyncio.run(ades_lta_validation(sig, spec))
        ts = res.signature_timestamp_status
        out.append(LtvResult(str(sig.field_name), str(res.ades_subindic), res.best_signature_time, ts is not None))
    return out
