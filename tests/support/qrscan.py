"""The print-and-phone matrix: a licence page rasterised the way a printer, a scanner or a phone
camera sees it (pdftoppm at 72–300 dpi, blur, JPEG compression, rotation, keystone, a phone-size
downscale), read by two independent decoders, zxing-cpp and zbar (``zbarimg``)."""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFilter

A4_WIDTH_IN = 210 / 25.4


def render(pdf: bytes, dpi: int) -> Image.Image:
    """Page 1 of ``pdf`` rasterised by poppler (anti-aliased, as viewers and print drivers do), greyscale."""
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-f", "1", "-l", "1", str(src), f"{d}/out"],
            check=True,
            timeout=60,
        )
        return Image.open(f"{d}/out.png").convert("L").copy()


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L")


def blur(img: Image.Image, radius: float) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(radius))


def rotate(img: Image.Image, degrees: float) -> Image.Image:
    return img.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def keystone(img: Image.Image, strength: float = 0.12) -> Image.Image:
    """A photo taken from below and to the side: the top edge shrunk by ``strength`` of the width."""
    w, h = img.size
    d = strength * w
    # PIL's perspective maps output to input coordinates: eight coefficients from four corner pairs
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(d, d * 0.3), (w - d * 0.6, 0), (w, h), (0, h - d * 0.2)]
    coeffs = _perspective(dst, src)
    return img.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=255)


def _perspective(out_pts: list[tuple[float, float]], in_pts: list[tuple[float, float]]) -> list[float]:
    """The eight coefficients of the projective map sending ``out_pts`` to ``in_pts`` (Gauss-Jordan)."""
    a: list[list[float]] = []
    for (x, y), (u, v) in zip(out_pts, in_pts, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    for col in range(8):
        pivot = max(range(col, 8), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(8):
            if r != col:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][8] / a[i][i] for i in range(8)]


def phone(img: Image.Image, width: int) -> Image.Image:
    """The whole page as a phone shows it: downscaled to ``width`` pixels across."""
    h = round(img.height * width / img.width)
    return img.resize((width, h), Image.Resampling.LANCZOS)


def framed(img: Image.Image, dpi: int, margin_mm: float = 12) -> Image.Image:
    """The part of a page render a phone's viewfinder shows when aimed at the QR code: the symbol
    and ``margin_mm`` of the page around it (table, seal, border, text)."""
    from signing.layout import QR_RECT

    k = dpi / 72
    pad = margin_mm / 25.4 * dpi
    x1, y1, x2, y2 = QR_RECT
    h = img.height
    return img.crop((round(x1 * k - pad), round(h - y2 * k - pad), round(x2 * k + pad), round(h - y1 * k + pad)))


@dataclass(frozen=True)
class Condition:
    """One way of seeing the printed page: the raster resolution, whether the whole page or the QR
    as framed by a phone is decoded, and what happens to the image."""

    name: str
    dpi: int
    change: Callable[[Image.Image], Image.Image] = lambda img: img
    frame: bool = False


CONDITIONS: tuple[Condition, ...] = (
    # whole page, as a scanner or a PDF-to-image conversion gives it
    Condition("page 300 dpi", 300),
    Condition("page 200 dpi", 200),
    Condition("page 150 dpi", 150),
    Condition("page 100 dpi", 100),
    Condition("page JPEG q30 at 100 dpi", 100, lambda i: jpeg(i, 30)),
    Condition("page JPEG q50 at 150 dpi", 150, lambda i: jpeg(i, 50)),
    Condition("page rotated 7° at 150 dpi", 150, lambda i: rotate(i, 7)),
    Condition("page rotated 35° at 200 dpi", 200, lambda i: rotate(i, 35)),
    Condition("page keystone at 300 dpi", 300, keystone),
    Condition("page keystone at 150 dpi", 150, keystone),
    Condition("page phone-size, 800 px wide", 300, lambda i: phone(i, 800)),
    Condition("page phone-size, 1080 px wide, JPEG q60", 300, lambda i: jpeg(phone(i, 1080), 60)),
    # the QR as a phone frames it, at low resolution and with camera defects
    Condition("framed 72 dpi", 72, frame=True),
    Condition("framed 72 dpi, JPEG q50", 72, lambda i: jpeg(i, 50), frame=True),
    Condition("framed blur r1.0 at 150 dpi", 150, lambda i: blur(i, 1.0), frame=True),
    Condition("framed blur r2.0 at 300 dpi", 300, lambda i: blur(i, 2.0), frame=True),
    Condition("framed keystone at 100 dpi", 100, keystone, frame=True),
    Condition("framed 100 dpi, 3°, blur r0.6, JPEG q70", 100, lambda i: jpeg(blur(rotate(i, 3), 0.6), 70), frame=True),
)
BEYOND_ZBAR = ("framed 72 dpi, JPEG q50", "framed keystone at 100 dpi")
"""Conditions zbar does not read at the licence's 0.54 mm modules (1.5–1.9 px a module, then JPEG
or perspective: failed on 5 and 6 of 6 licences measured); zxing-cpp reads them."""
SMOKE = (
    "page 300 dpi",
    "page JPEG q30 at 100 dpi",
    "page keystone at 300 dpi",
    "page phone-size, 800 px wide",
    "framed 72 dpi",
)
"""A handful of conditions for the default run: the four zbar failed on before the change, and the lowest resolution."""


def zxing(img: Image.Image) -> list[str]:
    import zxingcpp

    return [b.text for b in zxingcpp.read_barcodes(img) if b.format == zxingcpp.BarcodeFormat.QRCode]


def zbar(img: Image.Image) -> list[str]:
    """What ``zbarimg`` reads as QR codes from ``img`` (each symbol's text)."""
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        img.save(f.name)
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary", f.name],
            capture_output=True,
            timeout=60,
        )
    if out.returncode not in (0, 4):  # 4: no symbol found
        raise RuntimeError(out.stderr.decode(errors="replace"))
    return [line for line in out.stdout.decode("utf-8", errors="replace").splitlines() if line]


DECODERS: dict[str, Callable[[Image.Image], list[str]]] = {"zxing-cpp": zxing, "zbar": zbar}


def scan_matrix(pdf: bytes, conditions: tuple[Condition, ...] = CONDITIONS) -> dict[tuple[str, str], list[str]]:
    """``{(condition, decoder): texts read}`` for every condition and both decoders (each dpi rendered once)."""
    pages: dict[int, Image.Image] = {}
    out: dict[tuple[str, str], list[str]] = {}
    for cond in conditions:
        if cond.dpi not in pages:
            pages[cond.dpi] = render(pdf, cond.dpi)
        page = pages[cond.dpi]
        img = cond.change(framed(page, cond.dpi) if cond.frame else page)
        for name, decode in DECODERS.items():
            out[(cond.name, name)] = decode(img)
    return out
