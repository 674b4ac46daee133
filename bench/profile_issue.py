"""Where one licence's issuance time goes, in-process: ``python -m bench.profile_issue [-n 100]``.

Builds a real service (fresh temp data dir, SQLite, file keys) like the tests do, issues ``n``
licences through ``certsvc.licences.issuance.issue`` (the code behind ``POST /licences``) one after
another, and times each stage by wrapping the functions the issuance path calls (a stage whose
function is gone from the code is reported as absent). Stages nest the way the code does: the QR
encode is inside render; DB is the time in ``session_scope`` blocks (the keyring look-ups open
their own sessions and are listed apart). Then the same loop runs under pyinstrument, whose call
tree is printed (and written as HTML with ``--html``).

Sealing runs in this process (``CERTSVC_SIGN_WORKERS`` unset): these are the per-licence costs.
``certsvc serve`` may run render+seal in worker processes and batch items concurrently, and HTTP
adds parsing, validation and JSON — compare with the harness's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import inspect
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.load import percentile

# (stage, defining module, attribute): the function is wrapped where it is defined and wherever
# another module holds it under a global name (``from x import f``); methods on their class.
STAGES: list[tuple[str, str, str]] = [
    ("keyring: current certificate", "certsvc.keyring", "Keyring.current"),
    ("keyring: certificate by kid", "certsvc.keyring", "Keyring.by_kid"),
    ("QR token (COSE_Sign1, ECDSA)", "signing.pipeline", "sign_qr"),
    ("render PDF (reportlab), total", "signing.layout", "render_licence_pdf"),
    ("  of which QR encode", "signing.qr", "qr_rows"),
    ("  of which QR encode (qrcode lib)", "signing.qr", "make_qr"),
    ("  of which Canvas.save (fonts, streams, write)", "reportlab.pdfgen.canvas", "Canvas.save"),
    ("  of which font subsetting (reportlab)", "reportlab.pdfbase.ttfonts", "TTFontFile.makeSubset"),
    ("seal image (Pillow PNG, lru_cache)", "signing.seal", "seal_png"),
    ("PDF sealing (pyHanko + CMS), total", "signing.seal_pdf", "seal_pdf_async"),
    (
        "  of which IncrementalPdfFileWriter (parse)",
        "pyhanko.pdf_utils.incremental_writer",
        "IncrementalPdfFileWriter.__init__",
    ),
    ("  of which reserve Mark field", "pyhanko.sign.fields", "append_signature_field"),
    (
        "  of which pyHanko digest_doc_for_signing",
        "pyhanko.sign.signers.pdf_signer",
        "PdfSigner.async_digest_doc_for_signing",
    ),
    ("  of which pyHanko async_sign_pdf (whole)", "pyhanko.sign.signers.pdf_signer", "PdfSigner.async_sign_pdf"),
    ("  of which CMS (signing.cms.pades_cms)", "signing.cms", "pades_cms"),
    ("  of which ECDSA key operation", "pyhanko.sign.signers.pdf_cms", "SimpleSigner.async_sign_raw"),
    ("  of which finish_signing (write CMS)", "pyhanko.sign.signers.pdf_signer", "PdfTBSDocument.async_finish_signing"),
    ("blob write (fsync)", "certsvc.blobstore", "FileBlobStore.put"),
    ("DB transactions (session_scope), total", "certsvc.db.session", "session_scope"),
    ("  of which audit record", "certsvc.audit", "record_many"),
    ("  of which counter UPDATEs (serial, status index)", "certsvc.db.counters", "next_value"),
]

_times: dict[str, list[float]] = defaultdict(list)
_depth: dict[str, int] = defaultdict(int)


def _resolve(module: str, attr: str) -> tuple[Any, str, Any] | None:
    try:
        owner: Any = importlib.import_module(module)
    except ImportError:
        return None
    *path, name = attr.split(".")
    for p in path:
        owner = getattr(owner, p, None)
        if owner is None:
            return None
    fn = getattr(owner, name, None)
    return (owner, name, fn) if fn is not None else None


def _wrap(stage: str, fn: Any) -> Any:
    def record(t0: float) -> None:
        _depth[stage] -= 1
        if _depth[stage] == 0:  # outermost call only (recursion, re-entry)
            _times[stage].append((time.perf_counter() - t0) * 1000)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(*a: Any, **kw: Any) -> Any:
            _depth[stage] += 1
            t0 = time.perf_counter()
            try:
                return await fn(*a, **kw)
            finally:
                record(t0)

        return awrapper
    if getattr(fn, "__name__", "") == "session_scope" or inspect.isgeneratorfunction(getattr(fn, "__wrapped__", None)):

        @contextlib.contextmanager
        def cwrapper(*a: Any, **kw: Any) -> Iterator[Any]:
            _depth[stage] += 1
            t0 = time.perf_counter()
            try:
                with fn(*a, **kw) as v:
                    yield v
            finally:
                record(t0)

        return cwrapper

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        _depth[stage] += 1
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            record(t0)

    return wrapper


def install() -> tuple[list[str], Callable[[], None]]:
    """Wrap every stage function found; returns the absent stages and an undo function."""
    undo: list[tuple[Any, str, Any]] = []
    absent = []
    for stage, module, attr in STAGES:
        found = _resolve(module, attr)
        if found is None:
            absent.append(stage)
            continue
        owner, name, fn = found
        if isinstance(owner, type):
            raw = owner.__dict__.get(name, fn)
            if isinstance(raw, classmethod | staticmethod):
                wrapped: Any = type(raw)(_wrap(stage, raw.__func__))
            else:
                wrapped = _wrap(stage, raw)
            setattr(owner, name, wrapped)
            undo.append((owner, name, raw))
            continue
        wrapped = _wrap(stage, fn)
        for mod in list(sys.modules.values()):
            namespace = getattr(mod, "__dict__", None)
            if not namespace:
                continue
            for key, value in list(namespace.items()):
                if value is fn:
                    setattr(mod, key, wrapped)
                    undo.append((mod, key, fn))

    def restore() -> None:
        for owner, name, fn in reversed(undo):
            setattr(owner, name, fn)

    return absent, restore


def build_service(tmp: Path) -> tuple[Any, Any]:
    for k in [k for k in os.environ if k.startswith("CERTSVC_")]:
        del os.environ[k]
    os.environ.update(
        {
            "CERTSVC_DATA_DIR": str(tmp),
            "CERTSVC_KEY_PASSPHRASE": "bench",
            "CERTSVC_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        }
    )
    from certsvc.app import create_app
    from certsvc.core.config import load_settings, reset_settings
    from certsvc.db.session import session_scope
    from certsvc.departments.registry import add_department, create_licence_type

    reset_settings()
    app = create_app(load_settings())
    ctx = app.state.ctx
    with session_scope(ctx.engine) as s:
        ctx.keyring.ensure_root(s)
        new = add_department(s, ctx.keyring, name="深圳市卫生健康委员会", uscc="11440300MB2C92042M", code="SZWJ")
        dept = new.department
        create_licence_type(
            s,
            dept,
            code="SPJY",
            name="食品经营许可证",
            fields=[
                {"name": "经营场所", "required": True},
                {"name": "主体业态", "required": True},
                {"name": "经营项目", "required": False},
            ],
            validity_days=1825,
            reform_mode="commitment",
        )
        s.expunge(dept)
    return ctx, dept


def _request(rng: random.Random, i: int) -> Any:
    from bench.run import licence_body
    from certsvc.licences.issuance import IssueRequest

    return IssueRequest(**licence_body(rng, i))


async def _issue_many(ctx: Any, dept: Any, n: int, rng: random.Random, offset: int) -> list[float]:
    from certsvc.licences.issuance import issue

    ms = []
    for i in range(n):
        t0 = time.perf_counter()
        await issue(ctx, dept, _request(rng, offset + i))
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_issue", description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=100, help="licences per pass (default 100)")
    p.add_argument("--html", help="write the pyinstrument profile as HTML here")
    p.add_argument("--no-pyinstrument", action="store_true")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="certsvc-profile-"))
    rng = random.Random(7)
    try:
        ctx, dept = build_service(tmp)
        asyncio.run(_issue_many(ctx, dept, 3, rng, 0))  # warm-up: fonts, keys, imports
        absent, restore = install()
        t0 = time.perf_counter()
        total = asyncio.run(_issue_many(ctx, dept, args.n, rng, 100))
        wall = time.perf_counter() - t0
        restore()
        n = len(total)
        print(
            f"{n} licences issued in-process in {wall:.2f} s: {n / wall:.1f} licences/s; per licence "
            f"p50 {percentile(total, 50):.1f} ms, mean {sum(total) / n:.1f} ms\n"
        )
        print(f"{'stage':<48} {'calls/lic':>9} {'ms/licence':>11} {'share':>7} {'p50/call':>9} {'p95/call':>9}")
        mean_total = sum(total) / n
        for stage, _, _ in STAGES:
            if stage in absent:
                continue
            ts = _times.get(stage, [])
            if not ts:
                print(f"{stage:<48} {'not called':>9}")
                continue
            per = sum(ts) / n
            print(
                f"{stage:<48} {len(ts) / n:>9.2f} {per:>11.2f} {100 * per / mean_total:>6.1f}% "
                f"{percentile(ts, 50):>9.2f} {percentile(ts, 95):>9.2f}"
            )
        if absent:
            print(f"\nnot in the code now: {', '.join(absent)}")
        if not args.no_pyinstrument:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005, async_mode="enabled")
            prof.start()
            asyncio.run(_issue_many(ctx, dept, args.n, rng, 10_000))
            prof.stop()
            print("\n" + prof.output_text(unicode=False, color=False, show_all=False, time="percent_of_total"))
            if args.html:
                Path(args.html).write_text(prof.output_html())
                print(f"HTML profile: {args.html}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
