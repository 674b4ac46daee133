"""A small PKI, licence PDFs and the attacks on them, for the verifier tests.

Everything is built with the project's own key code (keys.ca, keys.files) and pyHanko; the seal
is a PAdES certification signature (DocMDP level 2) like the real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from keys.ca import to_asn1
from keys.files import FileKeyBackend
from tests.support import tampering
from verify.trust import TrustContext, TrustedCert

DEPT_USCC = "11100000000013127D"
ENT_USCC = "91350100M000100Y43"
ENT2_USCC = "91440300MA5FXXXX1X"


@dataclass
class Pki:
    backend: FileKeyBackend
    root: x509.Certificate
    dept: x509.Certificate
    dept2: x509.Certificate  # a second department, revoked in some tests
    service: x509.Certificate
    enterprise: x509.Certificate
    enterprise2: x509.Certificate  # a second enterprise, for counter-signing
    stray: x509.Certificate  # issued by our root but not on the trust list
    foreign_root: x509.Certificate
    foreign: x509.Certificate
    signer_cache: dict[str, signers.SimpleSigner] = field(default_factory=dict)

    def signer(self, label: str) -> signers.SimpleSigner:
        if label not in self.signer_cache:
            cert = getattr(self, label)
            chain_root = self.foreign_root if label == "foreign" else self.root
            self.signer_cache[label] = self.backend.pdf_signer(label, to_asn1(cert), [to_asn1(chain_root)])
        return self.signer_cache[label]

    def trust(
        self, *, dept2_revoked_from: datetime | None = None, enterprise2_revoked_from: datetime | None = None
    ) -> TrustContext:
        return TrustContext(
            root=self.root,
            certs=(
                TrustedCert.from_cert(self.dept, "department", "dept-1", "测试市场监管局", licence_types=("SPJY",)),
                TrustedCert.from_cert(
                    self.dept2, "department", "dept-2", "测试卫健局", revoked_from=dept2_revoked_from
                ),
                TrustedCert.from_cert(self.service, "service", "service", "certsvc"),
                TrustedCert.from_cert(self.enterprise, "enterprise", ENT_USCC, "测试企业有限公司"),
                TrustedCert.from_cert(
                    self.enterprise2,
                    "enterprise",
                    ENT2_USCC,
                    "测试合作方有限公司",
                    revoked_from=enterprise2_revoked_from,
                ),
            ),
        )


class Issued:
    """The service's record of issued documents, by SHA-256 (what ``is_issued`` looks up)."""

    def __init__(self) -> None:
        self.hashes: set[str] = set()

    def __call__(self, sha256_hex: str) -> bool:
        return sha256_hex in self.hashes

    def add(self, data: bytes) -> bytes:
        import hashlib

        self.hashes.add(hashlib.sha256(data).hexdigest())
        return data


class Kit:
    """Builders for licence PDFs and the ways they get tampered with."""

    def __init__(self, pki: Pki, issued: Issued) -> None:
        self.pki = pki
        self.issued = issued

    # --- documents -------------------------------------------------------------------------

    @staticmethod
    def licence_pdf(title: str = "Food business licence SPJY-0001", *, with_text_field: bool = False) -> bytes:
        buf = BytesIO()
        c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
        c.setFont("Helvetica", 14)
        c.drawString(72, 760, title)
        c.drawString(72, 730, "Holder: Test Enterprise Ltd")
        if with_text_field:
            c.acroForm.textfield(name="remark", x=72, y=600, width=300, height=20)
        c.showPage()
        c.save()
        return buf.getvalue()

    def sign(
        self,
        pdf: bytes,
        who: str,
        field_name: str,
        *,
        certify: bool = False,
        box: tuple[int, int, int, int] | None = (400, 60, 540, 200),
        reason: str | None = None,
    ) -> bytes:
        meta = PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            certify=certify,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        spec = SigFieldSpec(field_name, box=box)
        out = signers.PdfSigner(meta, self.pki.signer(who), new_field_spec=spec).sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        )
        return out.getvalue()

    def seal(self, pdf: bytes | None = None, who: str = "dept", *, record: bool = True) -> bytes:
        """A department seal (certification signature) on ``pdf``; recorded as issued by default."""
        sealed = self.sign(pdf or self.licence_pdf(), who, "DeptSeal", certify=True)
        return self.issued.add(sealed) if record else sealed

    def mark(self, sealed: bytes, n: int = 1, who: str = "service", *, reason: str | None = None) -> bytes:
        """The marked copy (加注件): a visible approval signature by the service certificate."""
        box = (60, 60 + 90 * (n - 1), 260, 140 + 90 * (n - 1))
        return self.sign(sealed, who, f"Mark{n}", box=box, reason=reason)

    # --- tampering (shared with the service-level tests) ------------------------------------

    _update = staticmethod(tampering.update)
    add_page = staticmethod(tampering.add_page)
    add_annotation = staticmethod(tampering.add_annotation)
    add_text_field = staticmethod(tampering.add_text_field)
    fill_field = staticmethod(tampering.fill_field)
    flip_byte = staticmethod(tampering.flip_byte)
