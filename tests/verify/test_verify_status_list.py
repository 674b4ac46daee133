"""The Token Status List encoding (draft-ietf-oauth-status-list): the draft's own examples, round
trip, size, and hostile input."""

from __future__ import annotations

import base64
import gzip
import zlib

import pytest

from verify.report import StatusListError
from verify.status_list import StatusCode, decode_status_list, encode_status_list, status_at, status_in

# The draft's examples (section 4.1): 16 one-bit statuses, and 12 two-bit statuses.
DRAFT_1_BIT = "eNrbuRgAAhcBXQ"
DRAFT_1_BIT_INVALID = [0, 3, 4, 5, 7, 8, 9, 13, 15]
DRAFT_2_BITS = "eNo76fITAAPfAgc"
DRAFT_2_BITS_STATUSES = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_reads_the_drafts_examples():
    assert [status_at(DRAFT_1_BIT, i, bits=1) for i in range(16)] == [int(i in DRAFT_1_BIT_INVALID) for i in range(16)]
    assert [status_at(DRAFT_2_BITS, i, bits=2) for i in range(12)] == DRAFT_2_BITS_STATUSES


def test_writes_the_drafts_bytes():
    ours = encode_status_list(dict.fromkeys(DRAFT_1_BIT_INVALID, 1), bits=1, min_bytes=0)
    assert zlib.decompress(_unb64(ours)) == bytes([0xB9, 0xA3])  # the draft's figure
    ours = encode_status_list(dict(enumerate(DRAFT_2_BITS_STATUSES)), bits=2, min_bytes=0)
    assert zlib.decompress(_unb64(ours)) == zlib.decompress(_unb64(DRAFT_2_BITS)) == bytes([0xC9, 0x44, 0xF9])


def test_codes_are_the_drafts_status_types():
    assert (StatusCode.VALID, StatusCode.REVOKED, StatusCode.SUSPENDED) == (0, 1, 2)  # VALID, INVALID, SUSPENDED
    assert StatusCode.SUPERSEDED == 3  # the draft leaves 0x03 to the application


def test_round_trip():
    codes = {0: 1, 1: 2, 2: 3, 7: 1, 1000: 2, 65535: 3}
    encoded = encode_status_list(codes)
    data = decode_status_list(encoded)
    for index in range(0, 65536, 7):
        assert status_in(data, index) == codes.get(index, 0)
    for index, code in codes.items():
        assert status_at(encoded, index) == code


def test_minimum_size_is_16_kb_and_compresses_well():
    encoded = encode_status_list({3: int(StatusCode.REVOKED)})
    assert len(decode_status_list(encoded)) == 16 * 1024
    assert len(encoded) < 200


def test_covers_the_entries_asked_for_and_grows_beyond():
    assert len(decode_status_list(encode_status_list({}, min_entries=1 << 20))) == (1 << 20) * 2 // 8
    encoded = encode_status_list({100_000: 3})
    assert len(decode_status_list(encoded)) == 100_001 * 2 // 8 + 1
    assert status_at(encoded, 100_000) == 3


def test_rejects_bad_input():
    with pytest.raises(StatusListError):
        encode_status_list({1: 4})
    with pytest.raises(StatusListError):
        encode_status_list({1: 1}, bits=3)  # the draft allows 1, 2, 4 or 8
    with pytest.raises(StatusListError):
        status_at(encode_status_list({}), 16 * 1024 * 4)
    with pytest.raises(StatusListError):
        decode_status_list("!!!")
    with pytest.raises(StatusListError):
        decode_status_list(base64.urlsafe_b64encode(b"not zlib").decode())


def test_refuses_gzip_the_w3c_container():
    w3c = base64.urlsafe_b64encode(gzip.compress(bytes(16 * 1024))).rstrip(b"=").decode()
    with pytest.raises(StatusListError, match="not ZLIB"):
        decode_status_list(w3c)


def test_refuses_a_zlib_bomb():
    bomb = zlib.compress(bytes(20 * 1024 * 1024))
    with pytest.raises(StatusListError, match="more than"):
        decode_status_list(base64.urlsafe_b64encode(bomb).rstrip(b"=").decode())
