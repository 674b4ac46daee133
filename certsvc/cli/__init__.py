"""The ``certsvc`` command line. :func:`main` is the entry point; :func:`build_parser` every command.

The commands live in :mod:`certsvc.cli.operate` (running the service) and
:mod:`certsvc.cli.credentials` (departments, API keys, enterprise re-issue); what they share
(opening the data, dates, progress) in :mod:`certsvc.cli.common`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from certsvc.backfill.cli import add_parser as add_backfill_parser
from certsvc.cli import credentials, operate
from certsvc.cli.common import MOMENT_HELP, existing_ctx, moment
from certsvc.core.config import reset_settings
from certsvc.core.files import private_umask
from certsvc.errors import ServiceError

__all__ = ["build_parser", "main"]


def _serve_opts(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--workers", type=int, default=1, help="server processes (use PostgreSQL for >1)")


def _quiet(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--quiet", "-q", action="store_true", help="no progress display (it shows only on a terminal)")


def _operate(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("init", help="create the data directory, database schema and root CA").set_defaults(
        func=operate.cmd_init
    )
    sp = sub.add_parser("serve", help="run the HTTP service")
    _serve_opts(sp)
    sp.set_defaults(func=operate.cmd_serve)

    sp = sub.add_parser("demo", help="load demo departments, enterprises and licences, then serve")
    _serve_opts(sp)
    sp.add_argument("--no-serve", dest="serve", action="store_false", help="load the demo data and exit")
    sp.add_argument(
        "--show-keys", action="store_true", help="print the demo's API keys and activation codes again, and exit"
    )
    sp.set_defaults(func=operate.cmd_demo)

    keys = sub.add_parser("keys", help="manage seal keys").add_subparsers(dest="sub", required=True)
    sp = keys.add_parser("rotate", help="new seal key and certificate for a department; old ones still verify")
    sp.add_argument("--department", required=True, help="department code")
    sp.add_argument("--revoke-from", type=moment, help=f"mark the old key compromised from then ({MOMENT_HELP})")
    sp.set_defaults(func=operate.cmd_keys_rotate)

    sp = sub.add_parser(
        "verify",
        help="verify a PDF and print the verdict",
        description="Verify a PDF. Exit 0: genuine licence, valid; 1: genuine but not a valid licence "
        "(another status, status unknown, or a receipt); 3: not genuine; 4: signed by enterprises, not a "
        "licence; 2: usage error (unreadable file, no service database, missing or unverifiable trust list). "
        "Online it reads the service's database (--data-dir), which must exist.",
    )
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true", help="print the answer as JSON instead of in words")
    sp.add_argument("--offline", action="store_true", help="use only the trust list and status list")
    sp.add_argument("--at", type=moment, help=f"the licence's status as of then ({MOMENT_HELP})")
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
    sp.set_defaults(func=operate.cmd_verify)

    sp = sub.add_parser(
        "sweep",
        help="run the time-driven changes now: overdue materials, expiries (the server does this every minute)",
    )
    sp.add_argument("--at", type=moment, help=f"sweep as of then ({MOMENT_HELP})")
    _quiet(sp)
    sp.set_defaults(func=operate.cmd_sweep)

    events_p = sub.add_parser("events", help="events to supervising departments").add_subparsers(
        dest="sub", required=True
    )
    events_p.add_parser(
        "dispatch", help="deliver the due events now (the server does this every few seconds)"
    ).set_defaults(func=operate.cmd_events_dispatch)

    audit_p = sub.add_parser("audit", help="audit log").add_subparsers(dest="sub", required=True)
    audit_p.add_parser(
        "verify", help="walk the audit hash chain and check the signed heads (needs an existing service)"
    ).set_defaults(func=operate.cmd_audit_verify)
    audit_p.add_parser("checkpoint", help="sign the current audit chain head").set_defaults(
        func=operate.cmd_audit_checkpoint
    )

    add_backfill_parser(sub, existing_ctx)

    sp = sub.add_parser("repair", help="after a crash: remove blobs without a record, report records without a blob")
    sp.add_argument("--grace", type=float, default=600.0, help="leave blobs younger than this many seconds (in flight)")
    sp.set_defaults(func=operate.cmd_repair)

    archive = sub.add_parser("archive", help="long-term archiving").add_subparsers(dest="sub", required=True)
    sp = archive.add_parser("timestamp", help="add document time-stamps (PAdES B-LTA) before validation data ages out")
    sp.add_argument("--before", type=float, default=30.0, help="time-stamp what expires within this many days")
    _quiet(sp)
    sp.set_defaults(func=operate.cmd_archive_timestamp)

    sp = sub.add_parser("backup", help="back up the SQLite database, blobs and key files into a new DIR")
    sp.add_argument("dir")
    sp.set_defaults(func=operate.cmd_backup)

    sp = sub.add_parser("restore", help="restore a backup DIR (manifest checked first) into the data dir")
    sp.add_argument("dir")
    sp.add_argument("--force", action="store_true", help="replace existing data (moved aside, not deleted)")
    sp.set_defaults(func=operate.cmd_restore)


_DATA_DIR_HELP = "the service's data directory (default: $CERTSVC_DATA_DIR, else ./certsvc-data)"


def _data_dir_everywhere(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` also after the command (``certsvc verify --data-dir D FILE``), on every subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sp in action.choices.values():
                sp.add_argument("--data-dir", default=argparse.SUPPRESS, help=_DATA_DIR_HELP)
                _data_dir_everywhere(sp)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; separate from :func:`main` so tests can inspect it."""
    p = argparse.ArgumentParser(prog="certsvc", description="Electronic licences and seals with verification")
    p.add_argument("--data-dir", help=_DATA_DIR_HELP)
    sub = p.add_subparsers(dest="command", required=True)
    _operate(sub)
    credentials.add_parsers(sub)
    _data_dir_everywhere(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``certsvc`` script: service errors become a message and exit code 2, not a traceback."""
    args = build_parser().parse_args(argv)
    if args.data_dir:
        os.environ["CERTSVC_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
        reset_settings()
    private_umask()  # everything the service writes is readable by its own user only
    try:
        return int(args.func(args) or 0)
    except ServiceError as e:
        print(f"error: {e.diagnostics()}", file=sys.stderr)
        return 2
