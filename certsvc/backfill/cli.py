"""``certsvc backfill FILE.csv --department CODE [--wait]``: submit a back-fill job from a CSV file
(through the service layer), and with ``--wait`` work on it in this process too until it is done,
with a progress bar on a terminal (plain lines when stderr is not one)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from certsvc.backfill import jobs, runner
from certsvc.backfill.intake import CSV_FIELDS, read_csv
from certsvc.context import Context
from certsvc.db.models import Department
from certsvc.errors import Invalid

SHOW_FAILURES = 20


def add_parser(sub: Any, make_ctx: Callable[[], Context]) -> None:
    """Register ``certsvc backfill`` on the CLI's subparsers; ``make_ctx`` opens the service."""
    sp = sub.add_parser(
        "backfill",
        help="back-fill paper licences from a CSV file, as a background job",
        description="Issue the licences of a CSV file as a back-fill job. The header names the columns: "
        f"{', '.join(CSV_FIELDS)} and fields.NAME for each field of the licence type; number and issued_on "
        "keep the paper licence's number and original issue date. Prints the job id; with --wait, issues "
        "the licences in this process too (sharing the work with running servers) and shows progress. "
        "Exit 0: every licence issued (or the job queued); 1: some items failed; 2: a bad file or department.",
    )
    sp.add_argument("file", help="CSV file, UTF-8, one licence a row")
    sp.add_argument("--department", required=True, help="the issuing department's code, e.g. SZSJ")
    sp.add_argument("--wait", action="store_true", help="work on the job here and wait until it is done")
    sp.set_defaults(func=lambda args: cmd_backfill(args, make_ctx))


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_backfill(args: argparse.Namespace, make_ctx: Callable[[], Context]) -> int:
    """Read the CSV, submit the job, and (``--wait``) see it through."""
    path = Path(args.file)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            items, lines = read_csv(f)
    except OSError as e:
        return _error(f"cannot read {path}: {e.strerror}")
    except Invalid as e:
        return _error(f"{path}: {e.message}")
    ctx = make_ctx()
    with Session(ctx.engine) as s:
        dept = s.exec(select(Department).where(Department.code == args.department.strip().upper())).first()
        if dept is not None:
            s.expunge(dept)
    if dept is None:
        return _error(f"--department: no department with code {args.department!r}")
    job = jobs.submit(ctx.engine, dept, items, via="cli")
    print(f"job {job.id}: {job.total} licences from {path} for {dept.name} ({dept.code})")
    if not args.wait:
        print("queued: a running server (certsvc serve) issues them; GET /api/v1/licence-jobs/" + job.id)
        return 0
    try:
        asyncio.run(_see_through(ctx, job.id, job.total))
    except KeyboardInterrupt:
        print("interrupted: the job goes on in any running server", file=sys.stderr)
        return 130
    finally:
        ctx.sealer.close()
    return _summary(ctx, job.id, lines)


async def _see_through(ctx: Context, job_id: str, total: int) -> None:
    with _Progress(total) as bar:
        while True:
            worked = await runner.run_once(ctx, job_id)
            job, by_state = await asyncio.to_thread(jobs.progress, ctx.engine, job_id)
            bar.update(by_state.get("done", 0), by_state.get("failed", 0))
            if job.state in ("done", "failed"):
                return
            if not worked:  # the rest is leased by a server (or a killed one's lease runs out)
                await asyncio.sleep(0.5)


def _summary(ctx: Context, job_id: str, lines: list[int]) -> int:
    job, by_state = jobs.progress(ctx.engine, job_id)
    done, failed = by_state.get("done", 0), by_state.get("failed", 0)
    print(f"job {job_id} {job.state}: {done} issued, {failed} failed, of {job.total}")
    if job.error:
        print(f"the job failed: {job.error}")
    for seq, error in jobs.failures(ctx.engine, job_id, SHOW_FAILURES):
        print(f"  line {lines[seq]}: {error.get('message')}")
    if failed > SHOW_FAILURES:
        print(f"  … and {failed - SHOW_FAILURES} more: GET /api/v1/licence-jobs/{job_id}/results.csv lists them all")
    return 0 if job.state == "done" and not failed else 1


class _Progress:
    """A progress bar (rich) on a terminal; otherwise a plain line every 10 % or 10 s."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None
        self._task: Any = None
        self._last = (0.0, -1)

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("back-fill"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task("back-fill", total=self.total, failed=0)
        return self

    def update(self, done: int, failed: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done + failed, failed=failed)
            return
        at, decile = time.monotonic(), (done + failed) * 10 // max(1, self.total)
        if decile != self._last[1] or at - self._last[0] >= 10:
            print(f"{done + failed}/{self.total} processed ({done} issued, {failed} failed)", file=sys.stderr)
            self._last = (at, decile)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
