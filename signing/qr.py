"""QR codes for licences: byte mode, error correction M, at most version 15 (77×77 modules).

``make_qr`` returns a ``qrcode.QRCode``; ``qr_matrix``/``qr_image``/``qr_version`` use the faster
equivalent encoder in :mod:`signing.qrcodec` (same matrix).
"""

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, QRData

from signing.qrcodec import encode_matrix, encode_rows, version_for

__all__ = ["FAST_MASK", "MAX_VERSION", "make_qr", "qr_image", "qr_matrix", "qr_rows", "qr_version"]

MAX_VERSION = 15
"""Largest QR version accepted (≈412 bytes at EC level M); keeps modules large enough on paper."""

FAST_MASK = 3
"""Fixed mask pattern. Choosing the mask by penalty score costs ≈24 ms (8 trial layouts in pure
Python); over random signed-URL payloads mask 3 scores within 6 % (worst 17 %) of the best mask,
which decoders do not notice. Pass ``mask_pattern=None`` for the standard penalty-based choice."""


def qr_version(text: str) -> int:
    """QR version ``text`` needs in byte mode at EC level M (may exceed :data:`MAX_VERSION`; 41 if
    it fits no version)."""
    return version_for(len(text.encode("utf-8")))


def make_qr(text: str, *, border: int = 4, box_size: int = 10, mask_pattern: int | None = FAST_MASK) -> qrcode.QRCode:
    """A laid-out ``qrcode.QRCode`` for ``text``; ``ValueError`` if it needs a version above 15."""
    data = text.encode("utf-8")
    version = version_for(len(data))
    if version > MAX_VERSION:
        raise ValueError(f"QR text of {len(data)} bytes needs version {version} > {MAX_VERSION}")
    q = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECT_M, border=border, box_size=box_size, mask_pattern=mask_pattern
    )
    q.add_data(QRData(data, mode=MODE_8BIT_BYTE))
    q.make(fit=False)
    return q


def qr_matrix(text: str, *, border: int = 4) -> list[list[bool]]:
    """Module matrix (True = dark) with a quiet zone of ``border`` modules; ``ValueError`` above
    version 15."""
    core = encode_matrix(text.encode("utf-8"), FAST_MASK, MAX_VERSION)
    if not border:
        return core
    blank = [False] * (len(core) + 2 * border)
    side = [False] * border
    return (
        [list(blank) for _ in range(border)]
        + [side + row + side for row in core]
        + [list(blank) for _ in range(border)]
    )


def qr_rows(text: str) -> list[str]:
    """Module rows without quiet zone as strings ("1" = dark): the cheapest form to draw from."""
    return encode_rows(text.encode("utf-8"), FAST_MASK, MAX_VERSION)


def qr_image(text: str, *, box_size: int = 10, border: int = 4) -> Image.Image:
    """QR code as a greyscale Pillow image (black on white), ``box_size`` pixels per module."""
    matrix = qr_matrix(text, border=border)
    n = len(matrix)
    img = Image.frombytes("L", (n, n), bytes(0 if dark else 255 for row in matrix for dark in row))
    return img.resize((n * box_size, n * box_size), Image.Resampling.NEAREST)
