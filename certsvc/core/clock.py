"""Dates as the licences see them: China Standard Time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today in China Standard Time: validity dates and daily counts follow the local calendar, not UTC."""
    return datetime.now(CST).date()
