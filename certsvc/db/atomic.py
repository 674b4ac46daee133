"""Compare-and-set: an UPDATE whose WHERE clause restates what the caller read and checked.

A read, a check in Python and a write back lose updates under concurrency: two requests read the
same state, both pass the check, both write. Instead the write itself carries the check
(``UPDATE … WHERE id = :id AND state = :seen``) and the caller looks at how many rows it changed.
On PostgreSQL the UPDATE waits for a concurrent writer of the row and then re-evaluates its WHERE
clause on the committed row; on SQLite it waits for the database's write lock. Either way exactly
one of several racing requests changes the row, and the others see 0 rows and refuse.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlmodel import Session


def changed_rows(s: Session, statement: Executable, params: dict[str, Any] | None = None) -> int:
    """Run an UPDATE (or DELETE) in the session's transaction; how many rows it changed."""
    # an UPDATE gives a CursorResult; Session.execute() is typed for any statement, as Result
    result = cast(CursorResult[Any], s.execute(statement, params or {}))
    return result.rowcount
