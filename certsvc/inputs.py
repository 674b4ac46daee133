"""Input at the edge: text a person could have meant, dates a licence can carry.

Every request body is a :class:`RequestModel`: before its fields are read, every string in it, object
keys and nested values alike, is refused (422 naming where it is) when it holds a lone surrogate
(not Unicode at all: it cannot be stored, hashed or printed), NUL or another C0/C1 control
character. Tab and line feed are allowed only in the free text a model names in ``MULTILINE``
(licence field values, reasons, notes). Path and query parameters get the same check
(:func:`parameter_problem`, applied to every route by the API). Dates are bounded to
:data:`DATE_MIN` … :data:`DATE_MAX`, so that no date arithmetic on them overflows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "Day",
    "RequestModel",
    "error_location",
    "escape_text",
    "parameter_problem",
    "text_problem",
]

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)
Day = Annotated[date, Field(ge=DATE_MIN, le=DATE_MAX)]
"""A date in a request: a licence's validity, a due date. Bounded so that adding a validity period
(at most 100 years) to it stays a date."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB_LF = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` is refused as input, or None: a lone surrogate, or a control character
    (tab and line feed are allowed when ``multiline``)."""
    if _SURROGATE.search(text):
        return "contains a lone surrogate: not valid Unicode"
    if (_CONTROL_BUT_TAB_LF if multiline else _CONTROL).search(text):
        return "contains a control character"
    return None


def escape_text(text: str) -> str:
    """``text`` safe to echo in an answer: lone surrogates and control characters (but tab and line
    feed) written as their escapes (``\\ud800``, ``\\x00``), everything else as it is."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _walk(value: Any, path: tuple[str, ...], multiline: bool) -> Iterator[tuple[tuple[str, ...], str]]:
    """``(path, problem)`` of each refused string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        problem = text_problem(value, multiline=multiline)
        if problem:
            yield path, problem
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key)
            problem = text_problem(name)
            if problem:
                yield (*path, escape_text(name)), f"this key {problem}"
            else:
                yield from _walk(item, (*path, name), multiline)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, str(i)), multiline)


class RequestModel(BaseModel):
    """The base of every request body: refuses lone surrogates and control characters anywhere in
    it, keys included, naming where (``fields.经营范围: contains a control character``).

    ``MULTILINE`` names the top-level fields holding free text, where tab and line feed are allowed;
    ``CHECKED_PER_ITEM`` the fields whose items are checked one by one later (a batch's items, so
    that a bad item is that item's error).
    """

    MULTILINE: ClassVar[frozenset[str]] = frozenset()
    CHECKED_PER_ITEM: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_unsafe_text(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for path, problem in _problems(data, cls.MULTILINE, cls.CHECKED_PER_ITEM):
                raise PydanticCustomError("unsafe_text", "{problem}", {"problem": problem, "at": ".".join(path)})
        return data


def _problems(
    data: Mapping[Any, Any], multiline: frozenset[str], skip: frozenset[str]
) -> Iterator[tuple[tuple[str, ...], str]]:
    for key, value in data.items():
        name = str(key)
        problem = text_problem(name)
        if problem:
            yield (escape_text(name),), f"this key {problem}"
        elif name not in skip:
            yield from _walk(value, (name,), name in multiline)


def error_location(err: Mapping[str, Any], whole: str = "body") -> str:
    """Where a validation error is, as the answer names it (``fields.经营范围``, ``items.2.valid_from``),
    or ``whole`` when it is about the whole body."""
    parts = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
    at = (err.get("ctx") or {}).get("at")
    if at:
        parts.append(str(at))
    return ".".join(parts) or whole


def parameter_problem(params: Iterable[tuple[str, str]], where: str) -> dict[str, Any] | None:
    """The first path or query parameter (``where``) holding a lone surrogate or a control character,
    as a validation error, or None."""
    for name, value in params:
        for text, what in ((name, "this parameter name"), (value, "")):
            problem = text_problem(text)
            if problem:
                msg = f"{what} {problem}".strip()
                return {"type": "unsafe_text", "loc": (where, escape_text(name)), "msg": msg, "input": None}
    return None
