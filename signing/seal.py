"""Chinese official round seal (公章) drawn with Pillow: red ring, name along the upper arc, star,
purpose line, seal code along the lower arc, transparent background."""

import io
import math
from functools import lru_cache

from PIL import Image, ImageDraw

from signing.fonts import pil_font, pil_lock

__all__ = ["SEAL_PX", "SEAL_RED", "draw_seal", "seal_code", "seal_png"]

SEAL_PX = 600
"""Side of the rendered seal in pixels (≈381 dpi at 40 mm)."""

SEAL_RED = (218, 25, 32)
"""Seal ink colour (RGB)."""


def seal_code(uscc: str, owner_id: int) -> str:
    """A 13-digit seal code (印章编码): the division code of the USCC and a running number."""
    return f"{uscc[2:8]}{owner_id:07d}"


def _star(cx: float, cy: float, r_out: float) -> list[tuple[float, float]]:
    r_in = r_out * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for k in range(10):
        r = r_out if k % 2 == 0 else r_in
        a = math.radians(-90 + 36 * k)
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def _shapes_mask(size: int, ring_r: float, ring_w: float, star_r: float) -> Image.Image:
    """Ring and star, drawn at 4x and downsampled for smooth edges."""
    k = 4
    big = Image.new("L", (size * k, size * k), 0)
    d = ImageDraw.Draw(big)
    c = size * k / 2
    d.ellipse((c - ring_r * k, c - ring_r * k, c + ring_r * k, c + ring_r * k), fill=255)
    inner = (ring_r - ring_w) * k
    d.ellipse((c - inner, c - inner, c + inner, c + inner), fill=0)
    d.polygon(_star(c, c, star_r * k), fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def _glyph_tile(ch: str, size: int, squeeze: float, stroke: int) -> Image.Image:
    """One character as an L mask, horizontally squeezed by ``squeeze``."""
    font = pil_font(size)
    side = int(size * 1.5)
    tile = Image.new("L", (side, side), 0)
    ImageDraw.Draw(tile).text(
        (side / 2, side / 2), ch, font=font, fill=255, anchor="mm", stroke_width=stroke, stroke_fill=255
    )
    if squeeze < 0.999:
        tile = tile.resize((max(1, round(side * squeeze)), side), Image.Resampling.LANCZOS)
    return tile


def _paste_rotated(mask: Image.Image, tile: Image.Image, cx: float, cy: float, angle: float) -> None:
    """Paste ``tile`` centred at (cx, cy) after rotating it ``angle`` degrees counter-clockwise."""
    rot = tile.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    x = round(cx - rot.width / 2)
    y = round(cy - rot.height / 2)
    mask.paste(255, (x, y), rot)


def _arc_text(
    mask: Image.Image,
    text: str,
    *,
    radius: float,
    span: float,
    size: int,
    top: bool,
    stroke: int,
    min_squeeze: float = 0.5,
) -> None:
    """Lay ``text`` along an arc centred on the top (tops outward) or bottom (tops inward)."""
    n = len(text)
    if not n:
        return
    c = mask.width / 2
    step = span / n
    arc_len = (radius - size * 0.3) * math.radians(step)  # measured towards the inner edge
    squeeze = min(1.0, 0.92 * arc_len / size)
    if squeeze < min_squeeze:  # very long text: smaller characters as well as narrower
        size = max(8, int(size * squeeze / min_squeeze))
        squeeze = min_squeeze
    for i, ch in enumerate(text):
        a = -span / 2 + (i + 0.5) * step
        rad = math.radians(a)
        if top:
            x, y, rot = c + radius * math.sin(rad), c - radius * math.cos(rad), -a
        else:
            x, y, rot = c + radius * math.sin(rad), c + radius * math.cos(rad), a
        if not ch.isspace():
            _paste_rotated(mask, _glyph_tile(ch, size, squeeze, stroke), x, y, rot)


def _fit_line(text: str, size: int, max_width: float) -> tuple[int, float]:
    """Font size and horizontal squeeze so that ``text`` fits in ``max_width`` pixels."""
    width = pil_font(size).getlength(text)
    if width <= max_width:
        return size, 1.0
    squeeze = max_width / width
    if squeeze >= 0.6:
        return size, squeeze
    size = max(8, int(size * squeeze / 0.6))
    return size, min(1.0, max_width / pil_font(size).getlength(text))


def _line(mask: Image.Image, text: str, *, cy: float, size: int, max_width: float, stroke: int) -> None:
    size, squeeze = _fit_line(text, size, max_width)
    font = pil_font(size)
    width = int(font.getlength(text)) + 4 * size
    tile = Image.new("L", (width, int(size * 1.6)), 0)
    ImageDraw.Draw(tile).text(
        (width / 2, tile.height / 2), text, font=font, fill=255, anchor="mm", stroke_width=stroke, stroke_fill=255
    )
    if squeeze < 0.999:
        tile = tile.resize((max(1, round(width * squeeze)), tile.height), Image.Resampling.LANCZOS)
    mask.paste(255, (round(mask.width / 2 - tile.width / 2), round(cy - tile.height / 2)), tile)


def draw_seal(name: str, purpose: str = "电子证照专用章", code: str = "") -> Image.Image:
    """Draw a round seal (RGBA, ``SEAL_PX`` square, transparent outside the ink)."""
    s = SEAL_PX
    c = s / 2
    ring_r = s * 0.49
    ring_w = s * 0.032
    star_r = s * 0.165
    name = name.strip()
    n = len(name)
    name_size = int(s * 0.135)
    span = 150.0 if n <= 5 else min(250.0, 150.0 + (n - 5) * 17.0)
    with pil_lock():
        mask = _shapes_mask(s, ring_r, ring_w, star_r)
        inner = ring_r - ring_w
        _arc_text(
            mask,
            name,
            radius=inner - s * 0.03 - name_size * 0.5,
            span=span,
            size=name_size,
            top=True,
            stroke=max(1, s // 300),
        )
        if code:
            code_size = int(s * 0.05)
            code_span = min(100.0, len(code) * 5.0)
            _arc_text(
                mask,
                code,
                radius=inner - s * 0.018 - code_size * 0.5,
                span=code_span,
                size=code_size,
                top=False,
                stroke=0,
                min_squeeze=0.7,
            )
        if purpose:
            cy = c + star_r + s * 0.085
            half_chord = math.sqrt(max(0.0, (inner - s * 0.11) ** 2 - (cy + s * 0.04 - c) ** 2))
            _line(mask, purpose, cy=cy, size=int(s * 0.075), max_width=2 * half_chord, stroke=max(1, s // 400))
    img = Image.new("RGBA", (s, s), SEAL_RED + (0,))
    img.putalpha(mask)
    return img


@lru_cache(maxsize=256)
def seal_png(name: str, purpose: str = "电子证照专用章", code: str = "") -> bytes:
    """PNG bytes of :func:`draw_seal` (cached per name/purpose/code)."""
    buf = io.BytesIO()
    draw_seal(name, purpose, code).save(buf, format="PNG")
    return buf.getvalue()
