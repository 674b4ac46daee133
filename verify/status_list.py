"""Licence statuses as a W3C Bitstring Status List (v1.0) ``encodedList``.

Each licence has an index; its status is ``bits`` bits at ``index * bits``, most significant bit
first, index 0 at the left of the first byte. The bitstring is at least 16 KB before compression
(131 072 bits, the spec's minimum, so that one list hides which licence a verifier asks about),
gzip-compressed and base64url-encoded without padding, with the multibase prefix ``u``.
Signing the list and its time-to-live belong to whoever publishes it.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from enum import IntEnum

from verify.report import StatusListError

MIN_BYTES = 16 * 1024
MAX_DECODED_BYTES = 16 * 1024 * 1024  # a gzip bomb stops here
MULTIBASE_BASE64URL = "u"


class StatusCode(IntEnum):
    """The status of a licence version as the status list encodes it, two bits each."""

    VALID = 0
    SUSPENDED = 1
    REVOKED = 2
    SUPERSEDED = 3


def encode_status_list(codes: dict[int, int], bits: int = 2, *, min_bytes: int = MIN_BYTES) -> str:
    """Encode ``{index: code}`` (absent indexes are 0, valid) as an ``encodedList`` string."""
    if not 1 <= bits <= 8:
        raise StatusListError(f"bits per entry must be 1..8, not {bits}")
    top = (1 << bits) - 1
    needed_bits = (max(codes) + 1) * bits if codes else 0
    size = max(min_bytes, (needed_bits + 7) // 8)
    buf = bytearray(size)
    for index, code in codes.items():
        if index < 0:
            raise StatusListError(f"negative index {index}")
        if not 0 <= code <= top:
            raise StatusListError(f"code {code} does not fit in {bits} bits")
        _set(buf, index, code, bits)
    compressed = gzip.compress(bytes(buf), compresslevel=9, mtime=0)
    return MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def _set(buf: bytearray, index: int, code: int, bits: int) -> None:
    start = index * bits
    for k in range(bits):
        bit = (code >> (bits - 1 - k)) & 1
        pos = start + k
        mask = 0x80 >> (pos % 8)
        if bit:
            buf[pos // 8] |= mask
        else:
            buf[pos // 8] &= ~mask & 0xFF


def decode_status_list(encoded: str) -> bytes:
    """The uncompressed bitstring of an ``encodedList`` (with or without the ``u`` prefix)."""
    text = encoded.strip()
    if text.startswith(MULTIBASE_BASE64URL):
        text = text[1:]
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise StatusListError("not base64url") from e
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip container
    try:
        data = d.decompress(compressed, MAX_DECODED_BYTES)
    except zlib.error as e:
        raise StatusListError(f"not gzip data: {e}") from e
    if d.unconsumed_tail:
        raise StatusListError(f"decompresses to more than {MAX_DECODED_BYTES} bytes")
    if not d.eof:
        raise StatusListError("gzip data is truncated")
    return data


def status_in(bitstring: bytes, index: int, bits: int = 2) -> int:
    """The code at ``index`` of an already decoded bitstring (for many look-ups in one list)."""
    if index < 0 or (index + 1) * bits > len(bitstring) * 8:
        raise StatusListError(f"index {index} is outside the list")
    code = 0
    start = index * bits
    for k in range(bits):
        pos = start + k
        code = (code << 1) | ((bitstring[pos // 8] >> (7 - pos % 8)) & 1)
    return code


def status_at(encoded: str, index: int, bits: int = 2) -> int:
    """The code at ``index`` of an ``encodedList``: 0 valid, 1 suspended, 2 revoked, 3 superseded."""
    return status_in(decode_status_list(encoded), index, bits)
