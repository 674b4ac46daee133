"""Long-term validation data that goes into every signature the service makes (PAdES B-LT).

A signature gets a signature time-stamp from the service's own TSA (an unsigned CMS attribute,
:mod:`signing.cms`), and the revision that carries it gets a document security store (DSS) with
the certificates and CRLs a validator needs, so that it can check the signature years later with
nothing but the root certificate: no fetching, and after the keys were rotated or revoked.

The DSS goes into the signature's own revision (no VRI entries: they would need the signature
value, which is made after the revision is digested), so issuing costs no second incremental
update; :mod:`certsvc` archive time-stamping later adds fresh CRLs and a document time-stamp in
revisions of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing.tsa import LocalTsa

__all__ = ["LocalTsa", "LtvData", "add_dss"]


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
