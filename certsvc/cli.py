"""The ``certsvc`` command line: init, serve, demo, department add, keys rotate, verify, audit."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from certsvc import audit, serving
from certsvc.backfill.cli import add_parser as add_backfill_parser
from certsvc.backup import BackupError, backup, restore
from certsvc.blobstore import FileBlobStore
from certsvc.context import Context
from certsvc.core.config import get_settings, reset_settings
from certsvc.core.files import private_umask, tighten
from certsvc.db.models import Department, SigningCertificate
from certsvc.db.session import session_scope
from certsvc.demo import load_demo
from certsvc.departments.registry import add_department
from certsvc.errors import ServiceError
from certsvc.repair import repair
from certsvc.sweeps import run_sweeps
from certsvc.verification.pdf import verify_file_cli
from keys.ca import Subject
from verify.trust import OwnerKind


def _ctx() -> Context:
    ctx = Context(get_settings())
    ctx.migrate()
    with session_scope(ctx.engine) as s:
        ctx.keyring.ensure_root(s)
    return ctx


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
    ctx = _ctx()
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
    ctx = _ctx()
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


def cmd_department_add(args: argparse.Namespace) -> int:
    """``certsvc department add``: bootstrap a department and print its API key, the only time it is shown."""
    ctx = _ctx()
    with session_scope(ctx.engine) as s:
        new = add_department(
            s,
            ctx.keyring,
            name=args.name,
            uscc=args.uscc,
            code=args.code,
            registrar=args.registrar,
            credit=args.credit,
        )
        print(f"department {new.department.name} ({new.department.code}, id {new.department.id}) created")
        if args.registrar:
            print("business licence type YYZZ 营业执照 created")
        if args.credit:
            print("credit department: keeps the list of credit restrictions (信用约束)")
        print("API key (shown once, store it safely):")
        print(new.api_key)
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """``certsvc keys rotate``: a new seal key for a department; the old one stays for verifying older licences."""
    ctx = _ctx()
    with session_scope(ctx.engine) as s:
        dept = s.exec(select(Department).where(Department.code == args.department.upper())).first()
        if dept is None:
            print(f"no department with code {args.department}", file=sys.stderr)
            return 2
        old = ctx.keyring.current(s, OwnerKind.DEPARTMENT, dept.id)
        new = ctx.keyring.issue(
            s, OwnerKind.DEPARTMENT, dept.id or 0, Subject(dept.name, dept.name, dept.uscc, "电子证照专用章")
        )
        details: dict[str, object] = {"old_kid": old.kid, "new_kid": new.kid}
        if args.revoke_from:
            when = datetime.fromisoformat(args.revoke_from)
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            ctx.keyring.revoke_from(s, when, col(SigningCertificate.kid) == old.kid)
            details["revoked_from"] = when.isoformat()
        audit.record(
            s, "keys.rotate", actor_kind="operator", subject_kind="department", subject_id=dept.id, details=details
        )
    print(f"department {dept.code}: new seal certificate kid {new.kid}; old kid {old.kid} kept for verification")
    if args.revoke_from:
        print(f"old key marked compromised from {args.revoke_from}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``certsvc demo``: load sample departments, enterprises and licences to try the service with."""
    _default_base_url(args)
    ctx = _ctx()
    info = asyncio.run(load_demo(ctx))
    print(info)
    if args.serve:
        return cmd_serve(args)
    return 0


def _moment(text: str) -> datetime:
    """An ISO-8601 moment given on the command line (``--at``)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date-time: {text!r}") from e


def cmd_sweep(args: argparse.Namespace) -> int:
    """``certsvc sweep [--at]``: run the time-driven changes now (or as of ``--at``) and say what changed."""
    from certsvc.core.clock import CST, now

    ctx = _ctx()
    at = args.at or now()
    at = at if at.tzinfo else at.replace(tzinfo=CST)
    changed = run_sweeps(ctx.engine, at)
    print(f"swept as of {at.isoformat()}")
    for name, count in changed.items():
        print(f"  {name}: {count} changed")
    return 0


def cmd_events_dispatch(args: argparse.Namespace) -> int:
    """``certsvc events dispatch``: deliver every due event now and say what happened."""
    import asyncio

    from certsvc.core.clock import now
    from certsvc.events.dispatch import dispatch_once, stats

    ctx = _ctx()
    done = asyncio.run(dispatch_once(ctx.engine, ctx.settings))
    left = stats(ctx.engine, now())
    print(f"delivered {done['delivered']}, retrying {done['retrying']}, failed {done['failed']}")
    print(
        f"pending {int(left['pending'])} (oldest {left['oldest_pending_age_s']:.0f} s), "
        f"delivered {int(left['delivered'])}, failed {int(left['failed'])} in all"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``certsvc verify FILE``: check a PDF from the command line, online or against saved lists."""
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
    ctx = _ctx()
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
    ctx = _ctx()
    with session_scope(ctx.engine) as s:
        cp = audit.checkpoint(s, ctx.keyring)
    print(f"signed audit head at event {cp.event_id}" if cp else "no audit events yet")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    """``certsvc repair``: reconcile blobs and records after a crash; exit 1 if something is still missing."""
    ctx = _ctx()
    report = repair(ctx, grace_s=args.grace)
    print(report.summary())
    return 0 if report.healthy else 1


def cmd_archive_timestamp(args: argparse.Namespace) -> int:
    """``certsvc archive timestamp``: document time-stamps (B-LTA) on licences whose time-stamp or
    validation data expires within ``--before`` days; exit 1 if a PDF is missing. Run it from cron."""
    from certsvc.licences.archive import archive_timestamps

    report = archive_timestamps(_ctx(), before=timedelta(days=args.before))
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; separate from :func:`main` so tests can inspect it."""
    p = argparse.ArgumentParser(prog="certsvc", description="Electronic licences and seals with verification")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="create the data directory, database schema and root CA").set_defaults(func=cmd_init)

    def serve_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=8000)
        sp.add_argument("--workers", type=int, default=1, help="server processes (use PostgreSQL for >1)")

    sp = sub.add_parser("serve", help="run the HTTP service")
    serve_opts(sp)
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("demo", help="load demo departments, enterprises and licences, then serve")
    serve_opts(sp)
    sp.add_argument("--no-serve", dest="serve", action="store_false", help="load the demo data and exit")
    sp.set_defaults(func=cmd_demo)

    dep = sub.add_parser("department", help="manage departments").add_subparsers(dest="sub", required=True)
    sp = dep.add_parser("add", help="create a department and print its API key once")
    sp.add_argument("--name", required=True)
    sp.add_argument("--uscc", required=True)
    sp.add_argument("--code", required=True, help="short code, e.g. SZSJ")
    sp.add_argument("--registrar", action="store_true", help="market regulator: owns the business licence type YYZZ")
    sp.add_argument("--credit", action="store_true", help="keeps the list of credit restrictions (信用约束)")
    sp.set_defaults(func=cmd_department_add)

    keys = sub.add_parser("keys", help="manage seal keys").add_subparsers(dest="sub", required=True)
    sp = keys.add_parser("rotate", help="new seal key and certificate for a department; old ones still verify")
    sp.add_argument("--department", required=True, help="department code")
    sp.add_argument("--revoke-from", help="mark the old key compromised from this ISO date-time")
    sp.set_defaults(func=cmd_keys_rotate)

    sp = sub.add_parser(
        "verify",
        help="verify a PDF and print the verdict",
        description="Verify a PDF. Exit 0: genuine licence, valid; 1: genuine but not a valid licence "
        "(another status, status unknown, or a receipt); 3: not genuine; 4: signed by enterprises, not a "
        "licence; 2: usage error (unreadable file, missing or unverifiable trust list).",
    )
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true", help="print the answer as JSON instead of in words")
    sp.add_argument("--offline", action="store_true", help="use only the trust list and status list")
    sp.add_argument(
        "--at", type=_moment, help="the licence's status as of this ISO-8601 moment (no offset: China time)"
    )
    sp.add_argument(
        "--trust-list",
        help="GET /api/v1/trust-list saved: JSON, or its JWS (Accept: application/jwt) "
        "(offline; default ./trust-list.json)",
    )
    sp.add_argument(
        "--status-list",
        help="GET /api/v1/status-list saved: the JWT (Accept: application/statuslist+jwt) or the JSON "
        "(offline; default ./status-list.json)",
    )
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser(
        "sweep",
        help="run the time-driven changes now: overdue materials, expiries (the server does this every minute)",
    )
    sp.add_argument("--at", type=_moment, help="sweep as of this ISO-8601 moment (no offset: China time)")
    sp.set_defaults(func=cmd_sweep)

    events_p = sub.add_parser("events", help="events to supervising departments").add_subparsers(
        dest="sub", required=True
    )
    events_p.add_parser(
        "dispatch", help="deliver the due events now (the server does this every few seconds)"
    ).set_defaults(func=cmd_events_dispatch)

    audit_p = sub.add_parser("audit", help="audit log").add_subparsers(dest="sub", required=True)
    audit_p.add_parser("verify", help="walk the audit hash chain and check the signed heads").set_defaults(
        func=cmd_audit_verify
    )
    audit_p.add_parser("checkpoint", help="sign the current audit chain head").set_defaults(func=cmd_audit_checkpoint)

    add_backfill_parser(sub, _ctx)

    sp = sub.add_parser("repair", help="after a crash: remove blobs without a record, report records without a blob")
    sp.add_argument("--grace", type=float, default=600.0, help="leave blobs younger than this many seconds (in flight)")
    sp.set_defaults(func=cmd_repair)

    archive = sub.add_parser("archive", help="long-term archiving").add_subparsers(dest="sub", required=True)
    sp = archive.add_parser("timestamp", help="add document time-stamps (PAdES B-LTA) before validation data ages out")
    sp.add_argument("--before", type=float, default=30.0, help="time-stamp what expires within this many days")
    sp.set_defaults(func=cmd_archive_timestamp)

    sp = sub.add_parser("backup", help="back up the SQLite database, blobs and key files into a new DIR")
    sp.add_argument("dir")
    sp.set_defaults(func=cmd_backup)

    sp = sub.add_parser("restore", help="restore a backup DIR (manifest checked first) into the data dir")
    sp.add_argument("dir")
    sp.add_argument("--force", action="store_true", help="replace existing data (moved aside, not deleted)")
    sp.set_defaults(func=cmd_restore)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``certsvc`` script: service errors become a message and exit code 2, not a traceback."""
    args = build_parser().parse_args(argv)
    private_umask()  # everything the service writes is readable by its own user only
    try:
        return int(args.func(args) or 0)
    except ServiceError as e:
        print(f"error: {e.diagnostics()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
