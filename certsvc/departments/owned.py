"""A department's own rows: anything else is 404, as if it did not exist, and recorded as a denial."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from certsvc.db.models import Department
from certsvc.errors import Denial, NotFound


class _DepartmentRow(Protocol):
    @property
    def id(self) -> Any: ...
    @property
    def department_id(self) -> int: ...


T = TypeVar("T", bound=_DepartmentRow)


def owned_by(s: Session, dept: Department, model: type[T], row_id: Any, noun: str, subject_kind: str) -> T:
    """The ``model`` row ``row_id`` if ``dept`` owns it (its ``department_id``); NotFound ("no such
    ``noun``") otherwise, with a ``cross_department`` denial when the row is another department's."""
    row = s.get(model, row_id)
    if row is None:
        raise NotFound(f"no such {noun}")
    if row.department_id != dept.id:
        reason = f"another department's {noun}"
        denial = Denial("cross_department", "department", dept.id, subject_kind, row.id, reason)
        raise NotFound(f"no such {noun}", denial=denial)
    return row
