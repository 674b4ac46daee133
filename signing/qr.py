"""QR codes for licences: error correction Q, at most version 20, the printed link's token in
alphanumeric mode (a licence link with a base URL of 30 characters is version 16).

A QR text is encoded as two segments: its longest tail of QR alphanumeric characters (for a
licence link, ``/`` and the upper-case base32 token) in alphanumeric mode, 5.5 bits a character,
and whatever comes before it (scheme, host, path) in byte mode, so the link itself is unchanged.
``make_qr`` returns a ``qrcode.QRCode``; ``qr_matrix``/``qr_image``/``qr_version`` use the faster
equivalent encoder in :mod:`signing.qrcodec` (same matrix).
"""

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from signing.qrcodec import ALPHANUMERIC, encode_matrix, encode_rows, version_for

__all__ = [
    "EC_LEVEL",
    "FAST_MASK",
    "MAX_VERSION",
    "make_qr",
    "qr_image",
    "qr_matrix",
    "qr_rows",
    "qr_segments",
    "qr_version",
]

EC_LEVEL = ERROR_CORRECT_Q
"""Error correction Q: a quarter of the symbol may be lost (a smudge, a fold, a glare) and it still reads."""

MAX_VERSION = 20
"""Largest QR version accepted (97×97 modules, 0.44 mm on the licence): room for a long public base
URL; licence links of usual length are version 15–17 (0.5 mm or more)."""

FAST_MASK = 3
"""Fixed mask pattern. Choosing the mask by penalty score costs ≈24 ms (8 trial layouts in pure
Python); over random signed-URL payloads mask 3 scores within 6 % (worst 17 %) of the best mask,
which decoders do not notice. Pass ``mask_pattern=None`` for the standard penalty-based choice."""

_MIN_ALNUM = 8
"""An alphanumeric tail shorter than this costs more in its segment header than it saves."""


def qr_segments(text: str) -> tuple[bytes, str]:
    """``(byte-mode head, alphanumeric tail)`` of ``text``: the tail is its longest ending made of
    QR alphanumeric characters, when that is long enough to pay for its own segment."""
    i = len(text)
    while i and text[i - 1] in ALPHANUMERIC:
        i -= 1
    if len(text) - i < _MIN_ALNUM:
        i = len(text)
    return text[:i].encode("utf-8"), text[i:]


def qr_version(text: str) -> int:
    """QR version ``text`` needs at error correction Q (may exceed :data:`MAX_VERSION`; 41 if it
    fits no version)."""
    head, tail = qr_segments(text)
    return version_for(len(head), len(tail), EC_LEVEL)


def make_qr(text: str, *, border: int = 4, box_size: int = 10, mask_pattern: int | None = FAST_MASK) -> qrcode.QRCode:
    """A laid-out ``qrcode.QRCode`` for ``text`` (the same segments); ``ValueError`` if it needs a
    version above :data:`MAX_VERSION`."""
    version = qr_version(text)
    if version > MAX_VERSION:
        raise ValueError(f"QR text of {len(text)} characters needs version {version} > {MAX_VERSION}")
    head, tail = qr_segments(text)
    q = qrcode.QRCode(
        version=version, error_correction=EC_LEVEL, border=border, box_size=box_size, mask_pattern=mask_pattern
    )
    if head or not tail:
        q.add_data(QRData(head, mode=MODE_8BIT_BYTE))
    if tail:
        q.add_data(QRData(tail, mode=MODE_ALPHA_NUM))
    q.make(fit=False)
    return q


def qr_rows(text: str) -> list[str]:
    """Module rows without quiet zone as strings ("1" = dark): the cheapest form to draw from."""
    head, tail = qr_segments(text)
    return encode_rows(head, FAST_MASK, MAX_VERSION, alnum=tail, ec=EC_LEVEL)


def qr_matrix(text: str, *, border: int = 4) -> list[list[bool]]:
    """Module matrix (True = dark) with a quiet zone of ``border`` modules; ``ValueError`` above
    :data:`MAX_VERSION`."""
    head, tail = qr_segments(text)
    core = encode_matrix(head, FAST_MASK, MAX_VERSION, alnum=tail, ec=EC_LEVEL)
    if not border:
        return core
    blank = [False] * (len(core) + 2 * border)
    side = [False] * border
    return (
        [list(blank) for _ in range(border)]
        + [side + row + side for row in core]
        + [list(blank) for _ in range(border)]
    )


def qr_image(text: str, *, box_size: int = 10, border: int = 4) -> Image.Image:
    """QR code as a greyscale Pillow image (black on white), ``box_size`` pixels per module."""
    matrix = qr_matrix(text, border=border)
    n = len(matrix)
    img = Image.frombytes("L", (n, n), bytes(0 if dark else 255 for row in matrix for dark in row))
    return img.resize((n * box_size, n * box_size), Image.Resampling.NEAREST)
