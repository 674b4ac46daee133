"""``certsvc department …`` and ``certsvc enterprise …``: departments, their API keys, enterprise re-issue."""

from __future__ import annotations

import argparse
import json
import unicodedata
from typing import Any

from certsvc.cli.common import existing_ctx, open_ctx
from certsvc.db.session import session_scope
from certsvc.departments import keys
from certsvc.departments.registry import add_department
from certsvc.enterprises import tokens


def _key_id(text: str) -> int:
    """A key id as ``key list`` shows it: a positive whole number a database holds."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a key id (a whole number from key list)") from None
    if not 1 <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{text} is not a key id (key ids are positive numbers from key list)")
    return value


def cmd_department_add(args: argparse.Namespace) -> int:
    """``certsvc department add``: bootstrap a department and print its API key, the only time it is shown."""
    ctx = open_ctx()
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


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[("-" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([_width(c), *(_width(row[i]) for row in cells)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(columns), *(line(row) for row in cells)])


def _print(rows: list[dict[str, Any]], columns: list[str], as_json: bool, empty: str) -> None:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif rows:
        print(_table(rows, columns))
    else:
        print(empty)


def cmd_department_list(args: argparse.Namespace) -> int:
    """``certsvc department list [--json]``: every department, its roles and how many keys work."""
    ctx = existing_ctx()
    with session_scope(ctx.engine) as s:
        rows = keys.list_departments(s)
    columns = ["id", "code", "name", "uscc", "registrar", "credit", "active_keys", "created_at"]
    _print(rows, columns, args.json, "no departments yet: add one with certsvc department add")
    return 0


def cmd_key_add(args: argparse.Namespace) -> int:
    """``certsvc department key add``: one more API key for a department (its other keys keep working)."""
    ctx = existing_ctx()
    with session_scope(ctx.engine) as s:
        view, token = keys.add_key(s, args.department)
    print(f"API key {view['id']} added to {args.department.upper()}; its other keys keep working")
    print("API key (shown once, store it safely):")
    print(token)
    return 0


def cmd_key_list(args: argparse.Namespace) -> int:
    """``certsvc department key list [--json]``: a department's API keys (never the secrets)."""
    ctx = existing_ctx()
    with session_scope(ctx.engine) as s:
        rows = keys.list_keys(s, args.department)
    _print(rows, ["id", "prefix", "created_at", "last_used_at", "revoked_at"], args.json, "no API keys")
    return 0


def cmd_key_revoke(args: argparse.Namespace) -> int:
    """``certsvc department key revoke``: a key stops working now; requests with it get 401 saying so."""
    ctx = existing_ctx()
    with session_scope(ctx.engine) as s:
        view = keys.revoke_key(s, args.department, args.key_id)
    print(f"API key {view['id']} of {args.department.upper()} revoked at {view['revoked_at']}")
    return 0


def cmd_enterprise_reissue(args: argparse.Namespace) -> int:
    """``certsvc enterprise reissue``: a new activation code; every earlier token and portal session ends."""
    ctx = existing_ctx()
    with session_scope(ctx.engine) as s:
        code = tokens.reissue(s, args.uscc)
    print(f"enterprise {args.uscc.strip().upper()}: every earlier token and portal session has ended")
    print("new activation code (hand it to the legal representative; it works once):")
    print(code)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``department`` and ``enterprise`` commands."""
    dep = sub.add_parser("department", help="departments and their API keys").add_subparsers(dest="sub", required=True)
    sp = dep.add_parser("add", help="create a department and print its API key once")
    sp.add_argument("--name", required=True)
    sp.add_argument("--uscc", required=True)
    sp.add_argument("--code", required=True, help="short code, e.g. SZSJ")
    sp.add_argument(
        "--registrar", action="store_true", help="the market regulator (one only): owns the business licence type YYZZ"
    )
    sp.add_argument("--credit", action="store_true", help="keeps the list of credit restrictions (信用约束)")
    sp.set_defaults(func=cmd_department_add)

    sp = dep.add_parser("list", help="list the departments (needs an existing service)")
    sp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sp.set_defaults(func=cmd_department_list)

    key = dep.add_parser("key", help="a department's API keys").add_subparsers(dest="key_command", required=True)
    sp = key.add_parser("add", help="add an API key (printed once, on the last line); the others keep working")
    sp.add_argument("--department", required=True, help="department code")
    sp.set_defaults(func=cmd_key_add)
    sp = key.add_parser("list", help="list a department's API keys: id, created_at, last_used_at, revoked_at")
    sp.add_argument("--department", required=True, help="department code")
    sp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sp.set_defaults(func=cmd_key_list)
    sp = key.add_parser("revoke", help="revoke an API key now (401 for it from then on)")
    sp.add_argument("--department", required=True, help="department code")
    sp.add_argument("--key-id", required=True, type=_key_id, help="the id shown by key list")
    sp.set_defaults(func=cmd_key_revoke)

    ent = sub.add_parser("enterprise", help="enterprises' credentials").add_subparsers(dest="sub", required=True)
    sp = ent.add_parser(
        "reissue",
        help="a new activation code (printed on the last line); every earlier token and portal session ends",
    )
    sp.add_argument("--uscc", required=True, help="the enterprise's 统一社会信用代码")
    sp.set_defaults(func=cmd_enterprise_reissue)
