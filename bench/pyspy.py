"""Optional sampling of the live server with py-spy (``python -m bench.run --py-spy``).

Records collapsed stacks of the server (and its subprocesses) while a phase runs, and summarises
them: the share of samples in which each of a few named stages is on the stack.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

# stage → substrings of "function (file)" frames as py-spy prints them
STAGES: dict[str, tuple[str, ...]] = {
    "render (reportlab)": ("render_licence_pdf",),
    "QR encode": ("make_qr", "qr_matrix", "encode_matrix"),
    "seal image (Pillow)": ("seal_png", "draw_seal"),
    "QR token (COSE sign)": ("qr_token", "sign_claims"),
    "PDF signing (pyHanko + CMS)": ("seal_pdf_async", "async_sign_pdf", "async_digest_doc_for_signing", "pades_cms"),
    "blob write": ("blobstore.py",),
    "SQL (SQLAlchemy)": ("sqlalchemy/",),
    "audit record": ("record (certsvc/audit.py",),
    "HTTP + JSON (uvicorn, starlette, fastapi, pydantic)": ("uvicorn/", "starlette/", "fastapi/", "pydantic"),
    "idle (event loop waiting)": ("select (selectors.py", "run_forever", "_run_once"),
}


class PySpy:
    def __init__(self, pid: int, out: Path, rate: int = 100) -> None:
        self.pid = pid
        self.out = out
        self.rate = rate
        self.proc: subprocess.Popen[bytes] | None = None
        self.error: str | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("py-spy") is not None

    def __enter__(self) -> PySpy:
        exe = shutil.which("py-spy")
        if exe is None:
            self.error = "py-spy not installed (pip install py-spy)"
            return self
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(self.pid), "--subprocesses", "--rate", str(self.rate), "--format", "raw",
             "--output", str(self.out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if not self.out.exists():
            self.error = (err or b"").decode(errors="replace")[-500:] or "py-spy wrote nothing"


def summarise(collapsed: Path, top: int = 15) -> dict[str, object]:
    """Per-stage share of samples (inclusive), and the hottest leaf frames."""
    total = 0
    stage_hits: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_txt = line.rpartition(" ")
        if not stack:
            continue
        try:
            count = int(count_txt)
        except ValueError:
            continue
        total += count
        for stage, needles in STAGES.items():
            if any(n in stack for n in needles):
                stage_hits[stage] += count
        leaves[stack.split(";")[-1]] += count
    return {
        "samples": total,
        "stages_pct": {k: round(100 * v / total, 1) for k, v in stage_hits.most_common()} if total else {},
        "top_leaf_frames_pct": {k: round(100 * v / total, 1) for k, v in leaves.most_common(top)} if total else {},
    }
