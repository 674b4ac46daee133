"""Where an enterprise's signature goes on the PDF it uploads: a page and a position, a named empty
signature field, or by default the lower right of the last page, clear of the signatures already
there (so that a counter-signature sits beside the first one, not on it).

Positions are millimetres from the page's top-left corner to the centre of the seal, as a person
measures on the printed page; everything else is PDF points (1 mm = 72 / 25.4 pt).
"""

from __future__ import annotations

from dataclasses import dataclass

from signing.appearance import caption_height
from signing.probe import PdfProbe

__all__ = ["MARGIN", "MM", "POSITIONS", "SEAL_SIZE", "Placement", "PlacementError", "Spot", "place"]

MM = 72 / 25.4
SEAL_SIZE = 120.0
"""The seal's side in points (42 mm, the size of a company's round seal), smaller on a small page."""
MARGIN = 36.0
"""Between the default position and the page's edges, points."""
GAP = 12.0
"""Between a new signature and one already on the page, points."""
CAPTION_LINES = 2
POSITIONS = ("bottom-right", "bottom-centre", "bottom-left", "top-right", "top-left", "centre")
"""Named positions: a corner (or the middle of an edge, or the page's centre) within :data:`MARGIN`.
``bottom-right`` is the default, and like it moves left (then up) past signatures already there."""

Rect = tuple[float, float, float, float]


class PlacementError(ValueError):
    """A placement the document cannot take; ``field`` names the request's parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Placement:
    """What the signer asked for: ``page`` (1-based, -1 the last) and either ``x_mm`` and ``y_mm``
    (the seal's centre from the top-left corner) or a named ``position`` (:data:`POSITIONS`); or
    ``field`` (an empty signature field in the PDF)."""

    page: int = -1
    x_mm: float | None = None
    y_mm: float | None = None
    field: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class Spot:
    """Where the signature goes: ``page_index`` (0-based) and ``rect`` of a new field, or the
    existing empty field ``field`` (``rect`` None: it keeps its own)."""

    page_index: int
    rect: Rect | None
    field: str | None = None


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _mm(points: float) -> str:
    return f"{points / MM:.0f} mm"


def _field_spot(probe: PdfProbe, placement: Placement, name: str) -> Spot:
    if placement.x_mm is not None or placement.y_mm is not None or placement.position:
        raise PlacementError("field", "field: give either a signature field or a position (x, y), not both")
    if name not in probe.signature_fields:
        empty = ", ".join(repr(f) for f in probe.empty_signature_fields[:10])
        known = f"its empty signature fields are {empty}" if empty else "it has no empty signature field"
        raise PlacementError("field", f"field: the PDF has no signature field named {name!r}; {known}")
    if name not in probe.empty_signature_fields:
        raise PlacementError("field", f"field: the signature field {name!r} is already signed")
    return Spot(-1, None, name)


def place(probe: PdfProbe, placement: Placement) -> Spot:
    """The spot for ``placement`` in the probed document; :class:`PlacementError` naming the
    parameter (``page``, ``x``, ``y``, ``field``) when it cannot be honoured."""
    if placement.field:
        return _field_spot(probe, placement, placement.field)
    if placement.page == 0 or placement.page < -1:
        raise PlacementError("page", "page: pages are numbered from 1 (or -1 for the last page)")
    if probe.page_box is None:
        pages = f"{probe.pages} page{'s' if probe.pages != 1 else ''}"
        raise PlacementError("page", f"page: the PDF has {pages}; there is no page {placement.page}")
    index = probe.pages - 1 if placement.page == -1 else placement.page - 1
    x1, y1, x2, y2 = probe.page_box
    side = min(SEAL_SIZE, (x2 - x1) / 3, (y2 - y1) / 3)
    band = caption_height(side, CAPTION_LINES)
    if (placement.x_mm is None) != (placement.y_mm is None):
        missing = "y" if placement.y_mm is None else "x"
        raise PlacementError(missing, f"{missing}: give both x and y (mm from the page's top-left corner), or neither")
    if placement.position is not None and placement.position not in POSITIONS:
        raise PlacementError("position", f"position: {placement.position!r} is not one of {', '.join(POSITIONS)}")
    if placement.position and placement.x_mm is not None:
        raise PlacementError("position", "position: give either a named position or x and y, not both")
    if placement.position and placement.position != "bottom-right":
        return Spot(index, _anchored(probe.page_box, side, band, placement.position))
    if placement.x_mm is not None and placement.y_mm is not None:
        cx, cy = x1 + placement.x_mm * MM, y2 - placement.y_mm * MM
        rect = (cx - side / 2, cy - side / 2 - band, cx + side / 2, cy + side / 2)
        width, height = _mm(x2 - x1), _mm(y2 - y1)
        if rect[0] < x1 or rect[2] > x2:
            raise PlacementError(
                "x",
                f"x: a seal {_mm(side)} wide centred {placement.x_mm:g} mm from the left edge lies off the page, "
                f"which is {width} wide; x must be between {_mm(side / 2)} and {_mm(x2 - x1 - side / 2)}",
            )
        if rect[1] < y1 or rect[3] > y2:
            raise PlacementError(
                "y",
                f"y: a seal {_mm(side)} high with its caption, centred {placement.y_mm:g} mm from the top edge, lies "
                f"off the page, which is {height} high; y must be between {_mm(side / 2)} and "
                f"{_mm(y2 - y1 - side / 2 - band)}",
            )
        return Spot(index, rect)
    return Spot(index, _free_corner(probe.page_box, side, band, probe.page_widgets))


def _anchored(box: Rect, side: float, band: float, position: str) -> Rect:
    """The rectangle at a named position of the page, :data:`MARGIN` from its edges."""
    x1, y1, x2, y2 = box
    vertical, _, horizontal = position.partition("-")
    h = side + band
    left = {"left": x1 + MARGIN, "right": x2 - MARGIN - side}.get(horizontal, (x1 + x2 - side) / 2)
    bottom = {"bottom": y1 + MARGIN, "top": y2 - MARGIN - h}.get(vertical, (y1 + y2 - h) / 2)
    return (left, bottom, left + side, bottom + h)


def _free_corner(box: Rect, side: float, band: float, taken: tuple[Rect, ...]) -> Rect:
    """The lower right corner, or the first place left of it (then a row up) clear of ``taken``."""
    x1, y1, x2, y2 = box
    first = (x2 - MARGIN - side, y1 + MARGIN, x2 - MARGIN, y1 + MARGIN + side + band)
    row = 0
    while y1 + MARGIN + (row + 1) * (side + band) + row * GAP <= y2 - MARGIN:
        col = 0
        while x2 - MARGIN - (col + 1) * side - col * GAP >= x1 + MARGIN:
            right = x2 - MARGIN - col * (side + GAP)
            bottom = y1 + MARGIN + row * (side + band + GAP)
            rect = (right - side, bottom, right, bottom + side + band)
            if not any(_overlaps(rect, t) for t in taken):
                return rect
            col += 1
        row += 1
    return first
