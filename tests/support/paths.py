"""Where things are: the repository, and the shared corpus of hostile PDFs."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROBUSTNESS_CORPUS = Path(
    os.environ.get("CERTSVC_ROBUSTNESS_DIR", REPO.parent / "shared" / "testdata" / "pdf-robustness")
)


def robustness_files() -> list[Path]:
    return sorted(ROBUSTNESS_CORPUS.glob("*.pdf")) if ROBUSTNESS_CORPUS.is_dir() else []
