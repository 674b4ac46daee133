"""Long-term validation data that goes into every signature the service makes (PAdES B-LT).

A signature gets a signature time-stamp from the service's own TSA (an unsigned CMS attribute,
:mod:`signing.cms`), and the revision that carries it gets a document security store (DSS) with
the certificates and CRLs a validator needs, so that it can check the signature years later with
nothing but the root certificate: no fetching, and after the keys were rotated or revoked.

The DSS goes into the signature's own revision (no VRI entries: they would need the signature
value, which is made after the revision is digested), so issuing costs no second incremental
update. :func:`archive_timestamp` later adds fresh CRLs and a document time-stamp (B-LTA) in a
revision of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import crl as asn1_crl
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

from signing.tsa import LocalTsa

__all__ = ["ARCHIVE_FIELD", "LocalTsa", "LtvData", "Proof", "add_dss", "archive_timestamp", "latest_proof"]


@dataclass(frozen=True)
class LtvData:
    """What a signature needs for long-term validation: the TSA that time-stamps it, and the
    certificates and CRLs (DER) to put in the document security store."""

    tsa: LocalTsa | None
    certs: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()

    def with_certs(self, extra: Sequence[bytes]) -> LtvData:
        """The same data with ``extra`` certificates too (e.g. the signer's own)."""
        return LtvData(self.tsa, tuple(dict.fromkeys([*extra, *self.certs])), self.crls)


def add_dss(writer: BasePdfFileWriter, ltv: LtvData | None) -> None:
    """Add the certificates and CRLs of ``ltv`` to the document security store of ``writer``'s
    next revision, creating the store if the document has none; entries already there are kept."""
    if ltv is None or not (ltv.certs or ltv.crls):
        return
    DocumentSecurityStore.supply_dss_in_writer(
        writer,
        None,
        certs=[asn1_x509.Certificate.load(c) for c in ltv.certs],
        crls=[asn1_crl.CertificateList.load(c) for c in ltv.crls],
    )


ARCHIVE_FIELD = "ArchiveTimeStamp"
"""Document time-stamps go into new fields ``ArchiveTimeStamp1``, ``2``, …"""


async def archive_timestamp(pdf: bytes, ltv: LtvData) -> bytes:
    """Add a document time-stamp by ``ltv.tsa`` to ``pdf`` (PAdES B-LTA), with ``ltv``'s current
    certificates and CRLs added to the DSS in the same update, so that a validator has proof that
    the validation data existed while it was fresh. Everything signed before stays intact."""
    if ltv.tsa is None:
        raise ValueError("a document time-stamp needs a time-stamping authority")
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    n = 1 + sum(1 for name, _, _ in enumerate_sig_fields(writer) if str(name).startswith(ARCHIVE_FIELD))
    add_dss(writer, ltv)
    stamper = PdfTimeStamper(ltv.tsa.archival(), field_name=f"{ARCHIVE_FIELD}{n}")
    out = await stamper.async_timestamp_pdf(writer, "sha256", bytes_reserved=2 * (ltv.tsa.token_size_bound() + 64))
    return out.getvalue()


@dataclass(frozen=True)
class Proof:
    """How long a PDF's time-stamps and validation data prove anything: the newest time-stamp's
    TSA certificate's notAfter, the newest CRL's nextUpdate in its DSS, and whether it has a
    document time-stamp (B-LTA) at all; ``None`` for what it lacks."""

    timestamp_until: datetime | None
    crl_until: datetime | None
    archived: bool


def latest_proof(pdf: bytes) -> Proof:
    """The :class:`Proof` of ``pdf`` (signature and document time-stamps, DSS CRLs)."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    newest: tuple[datetime, datetime] | None = None
    archived = False
    for sig in reader.embedded_signatures:
        tokens = [sig.signed_data] if sig.sig_object_type == "/DocTimeStamp" else []
        archived = archived or bool(tokens)
        for attr in sig.signer_info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                tokens += [token["content"] for token in attr["values"]]
        for sd in tokens:
            info = tsp.TSTInfo.load(sd["encap_content_info"]["content"].parsed.dump())
            when = info["gen_time"].native
            certs = [c.chosen for c in sd["certificates"] if isinstance(c.chosen, asn1_x509.Certificate)]
            until = min((c.not_valid_after for c in certs), default=when)
            if newest is None or when > newest[0]:
                newest = (when, until)
    crl_until = None
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        for ref in dss.crls:
            crl = asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL))
            nu = crl["tbs_cert_list"]["next_update"].native
            crl_until = nu if crl_until is None or nu > crl_until else crl_until
    except NoDSSFoundError:
        pass
    return Proof(newest[1] if newest else None, crl_until, archived)
