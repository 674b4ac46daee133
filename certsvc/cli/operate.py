"""``certsvc`` commands that operate the service: init, serve, demo, keys, verify, sweep, audit, archive, backup."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from datetime import UTC, timedelta
from pathlib import Path

from sqlmodel import col

from certsvc import audit, serving
from certsvc.backup import BackupError, backup, restore
from certsvc.blobstore import FileBlobStore
from certsvc.cli.common import existing_ctx, open_ctx, progress, require_database
from certsvc.context import Context
from certsvc.core.config import get_settings, reset_settings
from certsvc.core.files import tighten
from certsvc.db.models import SigningCertificate
from certsvc.db.session import session_scope
from certsvc.demo import load_demo, show_demo_keys
from certsvc.departments.keys import department_by_code
from certsvc.repair import repair
from certsvc.sweeps import run_sweeps
from certsvc.verification.pdf import verify_file_cli
from keys.ca import Subject
from verify.trust import OwnerKind


def _tighten(ctx: Context) -> None:
    """Take group and other permissions off what an older version (or a copy) left readable, and say so."""
    roots = {ctx.settings.data_dir, ctx.settings.keys_dir}
    if isinstance(ctx.blobs, FileBlobStore):
        roots.add(ctx.blobs.root)
    for root in sorted(roots):
        changed = tighten(root)
        if changed:
            print(
                f"made {len(changed)} files and directories under {root} readable by this user only (0600/0700)",
                file=sys.stderr,
            )


def cmd_init(_args: argparse.Namespace) -> int:
    """``certsvc init``: create the data directory, schema and root CA, and show where they are."""
    ctx = open_ctx()
    _tighten(ctx)
    root = ctx.keyring.root()
    print(f"data directory: {ctx.settings.data_dir}")
    print(f"database:       {ctx.settings.database_url.split('@')[-1]}")
    print(f"root CA:        {root.cert.subject.rfc4514_string()} (kid {root.kid})")
    return 0


def _default_base_url(args: argparse.Namespace) -> None:
    """Links and QR codes point at where this server listens, unless configured otherwise."""
    if not os.environ.get("CERTSVC_PUBLIC_BASE_URL"):
        os.environ["CERTSVC_PUBLIC_BASE_URL"] = f"http://{args.host}:{args.port}"
        reset_settings()


def cmd_serve(args: argparse.Namespace) -> int:
    """``certsvc serve``: repair leftovers of a crash, then run uvicorn with sealing workers sized to the cores."""
    _default_base_url(args)
    ctx = open_ctx()
    _tighten(ctx)
    found = repair(ctx, grace_s=60.0)  # leftovers of a crash; younger blobs may belong to another process
    if found.orphans_removed or found.missing_blobs:
        print(found.summary(), file=sys.stderr)
    # Seal in a pool of processes, one per core, unless told otherwise (CERTSVC_SIGN_WORKERS=0: in-process).
    os.environ.setdefault("CERTSVC_SIGN_WORKERS", str(max(1, (os.cpu_count() or 1) // max(1, args.workers))))
    reset_settings()
    if args.workers > 1:
        if ctx.settings.database_url.startswith("sqlite"):
            print(
                "note: several workers on SQLite serialise their writes; use PostgreSQL to scale out", file=sys.stderr
            )
        metrics_dir = ctx.settings.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    serving.run(get_settings(), host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """``certsvc keys rotate``: a new seal key for a department; the old one stays for verifying older licences."""
    ctx = open_ctx()
    with session_scope(ctx.engine) as s:
        dept = department_by_code(s, args.department)
        old = ctx.keyring.current(s, OwnerKind.DEPARTMENT, dept.id)
        new = ctx.keyring.issue(
            s, OwnerKind.DEPARTMENT, dept.id or 0, Subject(dept.name, dept.name, dept.uscc, "电子证照专用章")
        )
        details: dict[str, object] = {"old_kid": old.kid, "new_kid": new.kid}
        if args.revoke_from:
            when = args.revoke_from.astimezone(UTC)
            ctx.keyring.revoke_from(s, when, col(SigningCertificate.kid) == old.kid)
            details["revoked_from"] = when.isoformat()
        audit.record(
            s, "keys.rotate", actor_kind="operator", subject_kind="department", subject_id=dept.id, details=details
        )
    print(f"department {dept.code}: new seal certificate kid {new.kid}; old kid {old.kid} kept for verification")
    if args.revoke_from:
        print(f"old key marked compromised from {args.revoke_from.isoformat()}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``certsvc demo``: load sample departments, enterprises and licences to try the service with."""
    _default_base_url(args)
    if args.show_keys:
        return show_demo_keys()
    ctx = open_ctx()
    info = asyncio.run(load_demo(ctx))
    print(info)
    if args.serve:
        return cmd_serve(args)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``certsvc sweep [--at]``: run the time-driven changes now (or as of ``--at``) and say what changed."""
    from certsvc.core.clock import now

    ctx = open_ctx()
    at = args.at or now()
    with progress("sweeping", quiet=args.quiet) as bar:

        def on_sweep(name: str, index: int, count: int) -> None:
            bar.note(f"sweep {name}")
            bar.update(index, count)

        changed = run_sweeps(ctx.engine, at, on_sweep=on_sweep)
        bar.update(len(changed), len(changed))
    print(f"swept as of {at.isoformat()}")
    for name, count in changed.items():
        print(f"  {name}: {count} changed")
    return 0


def cmd_events_dispatch(args: argparse.Namespace) -> int:
    """``certsvc events dispatch``: deliver every due event now and say what happened."""
    import asyncio

    from certsvc.core.clock import now
    from certsvc.events.dispatch import dispatch_once, stats

    ctx = open_ctx()
    done = asyncio.run(dispatch_once(ctx.engine, ctx.settings))
    left = stats(ctx.engine, now())
    print(f"delivered {done['delivered']}, retrying {done['retrying']}, failed {done['failed']}")
    print(
        f"pending {int(left['pending'])} (oldest {left['oldest_pending_age_s']:.0f} s), "
        f"delivered {int(left['delivered'])}, failed {int(left['failed'])} in all"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``certsvc verify FILE``: check a PDF from the command line, online (against the service's
    database, which must exist: nothing is created) or against saved lists."""
    if not args.offline:
        require_database(get_settings())
    return verify_file_cli(
        Path(args.file),
        offline=args.offline,
        trust_list=Path(args.trust_list) if args.trust_list else None,
        status_list=Path(args.status_list) if args.status_list else None,
        as_json=args.json,
        at=args.at,
    )


def cmd_audit_verify(_args: argparse.Namespace) -> int:
    """``certsvc audit verify``: exit 1 if the audit chain or its signed heads were tampered with."""
    ctx = existing_ctx()
    with session_scope(ctx.engine) as s:
        report = audit.verify_chain(s)
        if report.ok:
            report = audit.verify_checkpoints(s, ctx.keyring) or report
    if report.ok:
        print(f"audit chain intact: {report.events} events, signed heads match")
        return 0
    print(f"audit chain BROKEN at event {report.first_bad_id}: {report.reason}", file=sys.stderr)
    return 1


def cmd_audit_checkpoint(_args: argparse.Namespace) -> int:
    """``certsvc audit checkpoint``: sign the audit head now rather than wait for the server's timer."""
    ctx = open_ctx()
    with session_scope(ctx.engine) as s:
        cp = audit.checkpoint(s, ctx.keyring)
    print(f"signed audit head at event {cp.event_id}" if cp else "no audit events yet")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    """``certsvc repair``: reconcile blobs and records after a crash; exit 1 if something is still missing."""
    ctx = open_ctx()
    report = repair(ctx, grace_s=args.grace)
    print(report.summary())
    return 0 if report.healthy else 1


def cmd_archive_timestamp(args: argparse.Namespace) -> int:
    """``certsvc archive timestamp``: document time-stamps (B-LTA) on licences whose time-stamp or
    validation data expires within ``--before`` days; exit 1 if a PDF is missing. Run it from cron."""
    from certsvc.licences.archive import archive_timestamps

    with progress("archive time-stamps", quiet=args.quiet) as bar:
        report = archive_timestamps(open_ctx(), before=timedelta(days=args.before), progress=bar.update)
    print("\n".join(report.lines()))
    return 1 if report.missing else 0


def cmd_backup(args: argparse.Namespace) -> int:
    """``certsvc backup DIR``: a consistent copy of the database, blobs and keys."""
    try:
        summary = backup(get_settings(), Path(args.dir))
    except BackupError as e:
        print(f"error: {e.diagnostics()}", file=sys.stderr)
        return 2
    print(
        f"backup written to {summary.directory}: {summary.files} files, {summary.bytes} bytes "
        f"(database, {summary.blobs} blobs, {summary.keys} key files)"
    )
    for note in summary.notes:
        print(f"note: {note}")
    print("the backup holds the encrypted keys and their passphrase file: keep it as safe as the data dir")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """``certsvc restore DIR``: put a backup back, moving the current data aside rather than deleting it."""
    settings = get_settings()
    try:
        summary = restore(Path(args.dir), settings, force=args.force)
    except BackupError as e:
        print(f"error: {e.diagnostics()}", file=sys.stderr)
        return 2
    print(
        f"restored {summary.files} files from {summary.directory} into {settings.data_dir} "
        f"({summary.blobs} blobs, {summary.keys} key files); manifest checked"
    )
    if summary.moved_aside:
        print(f"the previous data was moved to {summary.moved_aside}")
    for note in summary.notes:
        print(f"note: {note}")
    return 0
