"""Server-rendered pages (Jinja2), mobile-first, no external resources."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def env() -> Environment:
    """The Jinja environment of the HTML pages, autoescaping so that licence fields cannot inject markup."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def render(name: str, **context: Any) -> str:
    """An HTML page from its template."""
    return env().get_template(name).render(**context)
