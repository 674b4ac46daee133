"""The portal's signing form: its choices, the form read as :class:`SignOptions`, and what it says
when something must be corrected (Chinese first, the service's English beside it)."""

from __future__ import annotations

import math
from typing import Any

from certsvc.enterprises.signature import SignOptions
from certsvc.errors import Invalid, ServiceError
from signing.placement import Placement

CUSTOM = "custom"
SIGN_POSITIONS: tuple[tuple[str, str, str], ...] = (
    ("bottom-right", "右下角", "bottom right"),
    ("bottom-centre", "底部居中", "bottom centre"),
    ("bottom-left", "左下角", "bottom left"),
    ("top-right", "右上角", "top right"),
    ("top-left", "左上角", "top left"),
    ("centre", "页面中央", "centre"),
    (CUSTOM, "自定义位置（毫米）", "custom position (mm)"),
)
"""(value, Chinese, English) of each choice of where the seal goes."""

_LABELS = {
    "file": ("文件无法签章", "file"),
    "page": ("页码有误", "page"),
    "position": ("位置有误", "position"),
    "x": ("横向位置有误", "x"),
    "y": ("纵向位置有误", "y"),
    "field": ("签名域有误", "field"),
    "reason": ("签章事由有误", "reason"),
    "location": ("签章地点有误", "location"),
}


def _value(form: dict[str, Any], name: str, limit: int = 200) -> str:
    v = form.get(name, "")
    return str(v).strip()[: limit + 1]


def _number(form: dict[str, Any], name: str, *, whole: bool) -> float | None:
    raw = _value(form, name, 20)
    if not raw:
        return None
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number of millimetres"
        raise Invalid(f"{name}: enter {kind}, not {raw!r}", field=name) from None
    if not math.isfinite(value):
        raise Invalid(f"{name}: enter a finite number", field=name)
    return value


def sign_options(form: dict[str, Any]) -> SignOptions:
    """The signing form as :class:`SignOptions`; :class:`~certsvc.errors.Invalid` naming a field that is
    not a number, or a custom position without both coordinates."""
    page = _number(form, "page", whole=True)
    position = _value(form, "position", 20) or "bottom-right"
    x = y = None
    if position == CUSTOM:
        x, y = _number(form, "x", whole=False), _number(form, "y", whole=False)
        if x is None or y is None:
            missing = "x" if x is None else "y"
            raise Invalid(f"{missing}: a custom position needs both x and y in millimetres", field=missing)
    placement = Placement(
        page=-1 if page is None else int(page), x_mm=x, y_mm=y, position=None if position == CUSTOM else position
    )
    return SignOptions(placement, _value(form, "reason"), _value(form, "location"))


def sign_form_problem(e: ServiceError) -> str:
    """What the form shows for a refusal: a Chinese summary naming the field, then the service's message."""
    zh, _name = _LABELS.get(e.field or "", ("无法签章", ""))
    return f"{zh} · {e.message}"
