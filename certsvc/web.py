"""Server-rendered pages (Jinja2), mobile-first, no external resources."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from certsvc.core.clock import CST, local_date

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def env() -> Environment:
    """The Jinja environment of the HTML pages, autoescaping so that licence fields cannot inject markup."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    environment.filters["china_date"] = _china_date
    environment.filters["china_time"] = _china_time
    environment.filters["china_clock"] = _china_clock
    environment.filters["dates_nowrap"] = _dates_nowrap
    return environment


def _china_date(value: str | None) -> str:
    """An ISO-8601 moment as the date in China (``{{ r.issued_at | china_date }}``): what a person reads."""
    return local_date(datetime.fromisoformat(value)) or "" if value else ""


def _china_clock(value: str | None) -> str:
    """An ISO-8601 moment as the time of day in China, to the second (``{{ v.expires_at | china_clock }}``)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CST).strftime("%H:%M:%S")


def _china_time(value: str | datetime | None) -> str:
    """A moment as China time to the minute (``{{ c.checked_at | china_time }}``); naive is UTC."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?")


def _dates_nowrap(text: object) -> Markup:
    """Text (escaped) with every ISO date or time in it kept on one line (``<span class="date">``)."""
    plain = str(text)
    pieces: list[Markup] = []
    end = 0
    for m in _DATE.finditer(plain):
        pieces += [escape(plain[end : m.start()]), Markup('<span class="date">{}</span>').format(m.group())]
        end = m.end()
    pieces.append(escape(plain[end:]))
    return Markup("").join(pieces)


def render(name: str, **context: Any) -> str:
    """An HTML page from its template."""
    return env().get_template(name).render(**context)
