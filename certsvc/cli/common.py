"""What every ``certsvc`` command shares: opening the service's data, dates, progress, errors."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from certsvc.context import Context
from certsvc.core.clock import CST, moment_in_range
from certsvc.core.config import Settings, get_settings
from certsvc.db.session import engine_for, session_scope, upgrade
from certsvc.errors import ServiceError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class NoDatabase(ServiceError):
    """A command that only reads was started where there is no service database: it creates none."""

    code = "no_database"


def open_ctx() -> Context:
    """The service's data, created (directory, schema, root CA) if it is new: for commands that write."""
    ctx = Context(get_settings())
    ctx.migrate()
    with session_scope(ctx.engine) as s:
        ctx.keyring.ensure_root(s)
    return ctx


def _where(settings: Settings) -> str:
    url = make_url(settings.database_url)
    shown = url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)
    return f"{shown} (data directory {settings.data_dir})"


def require_database(settings: Settings) -> None:
    """NoDatabase, with where it looked and how to point elsewhere, unless the service's database
    exists there; nothing is created either way."""
    url = make_url(settings.database_url)
    hint = "give --data-dir DIR (or CERTSVC_DATA_DIR, or CERTSVC_DATABASE_URL) of an existing service"
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise NoDatabase(f"no certsvc database at {_where(settings)}; {hint}")
    engine = engine_for(settings.database_url)
    try:
        found = inspect(engine).has_table("alembic_version")
    except SQLAlchemyError as e:
        raise NoDatabase(f"cannot open the database {_where(settings)}: {type(e).__name__}; {hint}") from e
    finally:
        engine.dispose()
    if not found:
        raise NoDatabase(f"{_where(settings)} is not a certsvc database (no schema in it); {hint}")


def existing_ctx() -> Context:
    """The service's data for a command that only reads: it must exist (see :func:`require_database`);
    its schema is brought up to date so that this version's code can read it."""
    settings = get_settings()
    require_database(settings)
    upgrade(settings.database_url)  # not ctx.migrate(): that would create a missing data directory
    return Context(settings)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def moment(text: str) -> datetime:
    """An ISO-8601 date or date-time given on the command line, as an aware moment: without an offset
    it is China time (UTC+8), and a date alone is its midnight. An argparse ``type``: anything else is
    a usage error (exit 2) that says what was expected."""
    value = text.strip()
    try:
        if _DATE.match(value):
            parsed = datetime.combine(date.fromisoformat(value), time(0), tzinfo=CST)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date or date-time; write e.g. 2026-12-01, 2026-12-01T08:30 "
            "(China time) or 2026-12-01T00:30:00Z"
        ) from None
    try:
        return moment_in_range(parsed)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


MOMENT_HELP = "ISO-8601 date or date-time; without an offset China time (UTC+8), a date alone its midnight"


@contextmanager
def progress(description: str, *, quiet: bool = False) -> Iterator[ProgressBar]:
    """A progress bar on stderr while a long operation runs: only on a terminal, never when piped
    or with ``--quiet``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    shown = console.is_terminal and not quiet
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not shown, transient=False) as bar:
        task = bar.add_task(description, total=None)
        yield ProgressBar(bar, task)


class ProgressBar:
    """One task of a :func:`progress` display: ``update(done, total)``, ``note(text)``."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar = bar
        self._task = task

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` items so far."""
        self._bar.update(self._task, completed=done, total=total)

    def note(self, text: str) -> None:
        """What is being done now."""
        self._bar.update(self._task, description=text)


def fail(message: str, code: int = 2) -> int:
    """Print ``error: message`` on stderr; the exit code."""
    print(f"error: {message}", file=sys.stderr)
    return code
