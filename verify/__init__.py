"""Checking things: signed licence PDFs, QR payloads, status lists; the verification report.

Never imports the web layer (``certsvc``); uses :mod:`keys` and :mod:`signing` only.

Public surface:

- :func:`verify_pdf` (:mod:`verify.verifier`) → :class:`Report` with a :class:`Verdict`
- :func:`verify_qr_text` (:mod:`verify.qr`) → :class:`QrResult`
- :class:`TrustContext`, :class:`TrustedCert` (:mod:`verify.trust`)
- :func:`encode_status_list`, :func:`decode_status_list`, :func:`status_at` (:mod:`verify.status_list`)
- :func:`analyse`, :func:`analyse_bounded` (:mod:`verify.analysis`) for the raw findings

PDF analysis runs in worker processes started through a ``forkserver``; like any use of
multiprocessing, a program that verifies PDFs must guard its main module with
``if __name__ == "__main__":`` (console-script entry points, uvicorn and pytest already do).
"""

from verify.analysis import analyse, analyse_bounded
from verify.qr import QrResult, verify_qr_text
from verify.report import Check, PdfFindings, Report, SignatureFinding, Verdict, VerifierBusy, VerifyError
from verify.status_list import StatusCode, decode_status_list, encode_status_list, status_at
from verify.trust import TrustContext, TrustedCert
from verify.verifier import judge, verify_pdf

__all__ = [
    "Check",
    "PdfFindings",
    "QrResult",
    "Report",
    "SignatureFinding",
    "StatusCode",
    "TrustContext",
    "TrustedCert",
    "Verdict",
    "VerifierBusy",
    "VerifyError",
    "analyse",
    "analyse_bounded",
    "decode_status_list",
    "encode_status_list",
    "judge",
    "status_at",
    "verify_pdf",
    "verify_qr_text",
]
