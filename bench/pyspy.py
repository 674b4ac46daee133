"""Optional sampling of the live server with py-spy (``python -m bench.run --py-spy``).

Records collapsed stacks of the certsvc server (all threads, and its subprocesses) while a phase
runs, and summarises them three ways:

- ``stages_inclusive_pct``: share of samples with a named service function on the stack (stages
  nest, so they overlap: the QR encode is inside render);
- ``by_module_self_pct``: share of samples whose innermost frame is in each top-level module
  (``reportlab``, ``pyhanko``, ``sqlalchemy``, ``certsvc``, ``logging`` …): a partition;
- ``outside_service_code_pct``: samples with no frame of certsvc, signing, verify or keys on the
  stack: the HTTP server, framework, event loop and thread hand-offs.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

# stage → substrings of "function (file:line)" frames as py-spy prints them
ISSUE: dict[str, tuple[str, ...]] = {
    "issue route (POST /licences, :batch)": ("post_licence (", "post_batch ("),
    "batch item validation (LicenceIn)": ("model_validate",),
    "issue (service, whole)": ("issue (certsvc/licences/issuance.py",),
    "batch issuance (service, whole)": ("issue_many (certsvc/licences/issuance.py",),
    "batch: record a chunk": ("_record (certsvc/licences/issuance.py",),
    "sealing worker: one chunk": ("_worker_seal_chunk",),
    "render PDF (reportlab)": ("render_licence_pdf",),
    "QR encode": ("make_qr", "qr_matrix", "qr_rows", "encode_matrix", "encode_rows"),
    "seal image (Pillow)": ("seal_png", "draw_seal"),
    "QR token (COSE_Sign1)": ("sign_qr", "sign_claims"),
    "PDF sealing (pyHanko + CMS)": ("seal_pdf_async", "_sign (signing/seal_pdf.py"),
    "blob write": ("certsvc/blobstore.py",),
    "audit record": ("record (certsvc/audit.py", "record_many (certsvc/audit.py"),
    "SQL (SQLAlchemy)": ("sqlalchemy/",),
    "response body (licence_view)": ("_issued_body",),
}
LOOKUP: dict[str, tuple[str, ...]] = {
    "public page /v/": ("verify_page (certsvc/api/routes/public.py",),
    "token look-up (lookup_token)": ("lookup_token",),
    "verification counter write": ("count_verification",),
    "public_view": ("public_view",),
    "enterprise page /e/": ("enterprise_page",),
    "holder_licences query": ("holder_licences",),
    "SQL (SQLAlchemy)": ("sqlalchemy/",),
    "ORM object loading": ("sqlalchemy/orm/loading.py",),
    "commit": ("do_commit", "Session.commit"),
    "JSON response render": ("JSONResponse.render", "json/encoder.py", "json/__init__.py"),
    "access log": ("uvicorn/logging.py", "logging/__init__.py"),
}
VERIFY: dict[str, tuple[str, ...]] = {
    "verify route": ("post_verify",),
    "upload parsing (multipart)": ("multipart", "read_pdf_upload"),
    "worker pool (hand-off, pickle)": ("verify/workers.py",),
    "verify.analysis (in workers)": ("verify/analysis.py",),
    "pyHanko validation": ("pyhanko/sign/validation", "pyhanko_certvalidator"),
    "PDF parsing (pyHanko reader)": ("pyhanko/pdf_utils/reader.py",),
    "SQL (SQLAlchemy)": ("sqlalchemy/",),
}
SERVICE_CODE = ("(certsvc/", "(signing/", "(verify/", "(keys/")
_FRAME_FILE = re.compile(r"\(([^():]+)(?::\d+)?\)$")


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
            [
                exe,
                "record",
                "--pid",
                str(self.pid),
                "--subprocesses",
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--output",
                str(self.out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
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


def _module(frame: str) -> str:
    m = _FRAME_FILE.search(frame)
    if not m:
        return frame.split(" ", 1)[0] or "?"
    path = m.group(1)
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if "/" not in path else head


def _records(text: str) -> list[tuple[list[str], int]]:
    """(frames, count) per collapsed stack; a command line with a newline spans several lines."""
    out: list[tuple[list[str], int]] = []
    buf = ""
    for line in text.splitlines():
        buf = f"{buf}\n{line}" if buf else line
        stack, _, count_txt = buf.rpartition(" ")
        if stack and count_txt.isdigit():
            out.append((stack.split(";"), int(count_txt)))
            buf = ""
    return out


def _process(frames: list[str]) -> tuple[str, list[str]]:
    """The innermost process of a stack (py-spy nests child processes under their parent) and
    its own frames."""
    last = max(i for i, f in enumerate(frames) if f.startswith("process ") or i == 0)
    head = frames[last]
    label = "worker" if "spawn_main" in head or "forkserver" in head or "multiprocessing" in head else "main"
    rest = frames[last + 1 :]
    while rest and not _FRAME_FILE.search(rest[0]) and "spawn_main" in rest[0]:
        rest = rest[1:]  # the remainder of a multi-line command line
    return label, rest


def summarise(collapsed: Path, stages: dict[str, tuple[str, ...]], top: int = 15) -> dict[str, object]:
    """Per-stage inclusive shares (all processes, and per process kind), per-module self shares,
    and the hottest leaf frames."""
    total = 0
    outside = 0
    stage_hits: Counter[str] = Counter()
    per_proc: dict[str, Counter[str]] = {}
    proc_total: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for all_frames, count in _records(collapsed.read_text(errors="replace")):
        label, frames = _process(all_frames)
        if not frames:
            continue
        stack = ";".join(frames)
        total += count
        proc_total[label] += count
        hits = per_proc.setdefault(label, Counter())
        for stage, needles in stages.items():
            if any(n in stack for n in needles):
                stage_hits[stage] += count
                hits[stage] += count
        if not any(code in stack for code in SERVICE_CODE):
            outside += count
        modules[_module(frames[-1])] += count
        leaves[frames[-1]] += count

    def pct(v: int, of: int | None = None) -> float:
        of = total if of is None else of
        return round(100 * v / of, 1) if of else 0.0

    return {
        "samples": total,
        "stages_inclusive_pct": {k: pct(stage_hits[k]) for k in stages if stage_hits[k]},
        "processes": {
            label: {
                "samples_pct": pct(n),
                "stages_inclusive_pct_of_process": {
                    k: pct(per_proc[label][k], n) for k in stages if per_proc[label][k]
                },
            }
            for label, n in proc_total.most_common()
        },
        "outside_service_code_pct": pct(outside),
        "by_module_self_pct": {k: pct(v) for k, v in modules.most_common(top)},
        "top_leaf_frames_pct": {k: pct(v) for k, v in leaves.most_common(top)},
    }
