"""Fast QR matrix encoder: byte mode, error correction M, fixed mask.

Produces exactly the module matrix the ``qrcode`` package makes for the same text and mask (the
tests check this), in ≈1.5 ms instead of ≈6 ms: the function patterns, format/version information,
data-module order and mask of each version are computed once (with ``qrcode``'s own pattern
routines) and cached; per text only the codewords (Reed-Solomon with table-driven GF(256)
arithmetic) are computed and scattered into a copy of the template.
"""

import threading
from dataclasses import dataclass
from functools import cache

import qrcode
from qrcode.base import rs_blocks
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["encode_matrix", "version_for"]

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]

_lock = threading.Lock()


@cache
def _capacity(version: int) -> int:
    """Data codewords at EC level M."""
    return sum(b.data_count for b in rs_blocks(version, ERROR_CORRECT_M))


def version_for(length: int) -> int:
    """Smallest version holding ``length`` bytes in byte mode at EC level M (41 if none)."""
    for version in range(1, 41):
        cci = 8 if version < 10 else 16
        if 4 + cci + 8 * length <= 8 * _capacity(version):
            return version
    return 41


@cache
def _generator_rows(ec: int) -> tuple[tuple[int, ...], ...]:
    """For each factor f, f × (generator coefficients after the leading 1)."""
    gen = [1]
    for i in range(ec):  # multiply by (x - α^i)
        nxt = [0] * (len(gen) + 1)
        for j, coef in enumerate(gen):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + i]
        gen = nxt
    tail = gen[1:]
    rows = [tuple([0] * ec)]
    for f in range(1, 256):
        lf = _LOG[f]
        rows.append(tuple(_EXP[_LOG[g] + lf] if g else 0 for g in tail))
    return tuple(rows)


def _ec_codewords(data: list[int], ec: int) -> list[int]:
    rows = _generator_rows(ec)
    rem = [0] * ec
    for byte in data:
        row = rows[byte ^ rem[0]]
        rem = [a ^ b for a, b in zip(rem[1:] + [0], row, strict=True)]
    return rem


def _codewords(payload: bytes, version: int) -> list[int]:
    capacity = _capacity(version)
    cci = 8 if version < 10 else 16
    n_bits = 4 + cci
    acc = (0b0100 << cci) | len(payload)
    acc = (acc << (8 * len(payload))) | int.from_bytes(payload, "big")
    n_bits += 8 * len(payload)
    term = min(4, capacity * 8 - n_bits)
    acc <<= term
    n_bits += term
    pad = (-n_bits) % 8
    acc <<= pad
    n_bits += pad
    data = list(acc.to_bytes(n_bits // 8, "big"))
    fill = (0xEC, 0x11)
    data += [fill[i % 2] for i in range(capacity - len(data))]
    blocks, ecs = [], []
    offset = 0
    for block in rs_blocks(version, ERROR_CORRECT_M):
        chunk = data[offset:offset + block.data_count]
        offset += block.data_count
        blocks.append(chunk)
        ecs.append(_ec_codewords(chunk, block.total_count - block.data_count))
    out = []
    for group in (blocks, ecs):
        for i in range(max(len(b) for b in group)):
            out.extend(b[i] for b in group if i < len(b))
    return out


@dataclass(frozen=True)
class _Template:
    modules: tuple[tuple[bool, ...], ...]
    """Function patterns, format and version information; data modules False."""
    positions: tuple[tuple[int, int], ...]
    """Data modules in placement order."""
    mask: tuple[bool, ...]
    """Mask value for each data position."""


@cache
def _template(version: int, mask_pattern: int) -> _Template:
    q = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, mask_pattern=mask_pattern)
    n = version * 4 + 17
    q.modules_count = n
    q.modules = [[None] * n for _ in range(n)]
    q.setup_position_probe_pattern(0, 0)
    q.setup_position_probe_pattern(n - 7, 0)
    q.setup_position_probe_pattern(0, n - 7)
    q.setup_position_adjust_pattern()
    q.setup_timing_pattern()
    q.setup_type_info(False, mask_pattern)
    if version >= 7:
        q.setup_type_number(False)
    positions = []
    row, step = n - 1, -1
    for col in range(n - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if q.modules[row][c] is None:
                    positions.append((row, c))
            row += step
            if row < 0 or row >= n:
                row -= step
                step = -step
                break
    mask_fn = _MASKS[mask_pattern]
    return _Template(
        modules=tuple(tuple(bool(m) for m in r) for r in q.modules),
        positions=tuple(positions),
        mask=tuple(mask_fn(r, c) for r, c in positions),
    )


_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
)


def encode_matrix(payload: bytes, mask_pattern: int, max_version: int = 40) -> list[list[bool]]:
    """Module matrix (True = dark, no quiet zone) of ``payload`` in byte mode at EC level M.

    ``ValueError`` if it needs a version above ``max_version``.
    """
    version = version_for(len(payload))
    if version > max_version:
        raise ValueError(f"QR text of {len(payload)} bytes needs version {version} > {max_version}")
    with _lock:
        template = _template(version, mask_pattern)
    words = _codewords(payload, version)
    bits = int.from_bytes(bytes(words), "big")
    n_bits = 8 * len(words)
    matrix = [list(r) for r in template.modules]
    for k, ((r, c), m) in enumerate(zip(template.positions, template.mask, strict=True)):
        dark = k < n_bits and (bits >> (n_bits - 1 - k)) & 1 == 1
        matrix[r][c] = dark != m
    return matrix
