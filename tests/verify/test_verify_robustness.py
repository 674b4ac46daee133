"""Every attacked or malformed file of the robustness corpus gets a verdict, never "genuine".

The corpus is ``../shared/testdata/pdf-robustness/`` (``CERTSVC_ROBUSTNESS_DIR`` overrides it). The
lookup ``is_issued`` answers yes to everything here, so that no file can hide behind
``not_issued_here``: the verdict has to come from the signature analysis itself.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from tests.support.paths import ROBUSTNESS_CORPUS as CORPUS
from tests.support.paths import robustness_files
from verify.policy import (
    AnalysisCompleted,
    Evidence,
    HasSignature,
    NothingAddedButServiceSignatures,
    SealIntact,
    evaluate,
)
from verify.report import Coverage, PdfFindings, Verdict
from verify.verifier import verify_pdf

FILES = robustness_files()
# The service answers within 5 s: the analysis limit leaves room for the rest of the request.
TIMEOUT_S = 4.5


def _expected() -> dict[str, str]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return {}
    with manifest.open(newline="", encoding="utf-8") as f:
        return {row["file"]: row["expected_verdict"] for row in csv.DictReader(f, delimiter="\t")}


EXPECTED = _expected()


# The integrity rules alone, without "who signed": what the verdict would be if the file's signer
# were one of our departments. Most corpus files are signed by other CAs and stop at
# unknown_signer; this makes sure the modification rules would have caught them anyway.
INTEGRITY_ONLY = (AnalysisCompleted(), HasSignature(), SealIntact(), NothingAddedButServiceSignatures())


def reported_intact_and_unmodified(findings: PdfFindings) -> bool:
    """Whether the findings would let anyone read the file as untouched since its first signature.

    (File level: a later signature may well be intact and cover everything after the tampering,
    as in the "sneaky" pyHanko files; what must not look clean is the first signature.)
    """
    sigs = findings.signatures
    return (
        not findings.problems
        and bool(sigs)
        and all(s.error is None and s.intact and s.valid and s.coverage is not Coverage.PARTIAL for s in sigs)
        and sigs[0].modification_level == "NONE"
    )


def test_corpus_is_present():
    if not FILES:
        pytest.skip(f"robustness corpus not found at {CORPUS}")
    assert len(FILES) == len(EXPECTED), "MANIFEST.tsv and the directory disagree"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_robustness_file_is_never_genuine(path: Path, trust):
    data = path.read_bytes()
    started = time.perf_counter()
    report = verify_pdf(data, trust, lambda sha256: True, timeout_s=TIMEOUT_S)
    elapsed = time.perf_counter() - started

    assert report.verdict is not Verdict.GENUINE, report.diagnostics()
    assert elapsed < 5.0, f"{path.name} took {elapsed:.2f} s"
    assert report.checks and any(not c.ok for c in report.checks)
    report.to_dict()  # serialisable, whatever the file held
    if EXPECTED.get(path.name) in ("MODIFIED", "INVALID"):
        assert not reported_intact_and_unmodified(report.findings), report.findings
        verdict, _ = evaluate(Evidence(report.findings, trust, lambda sha256: True), INTEGRITY_ONLY)
        assert verdict is not Verdict.GENUINE
