"""The Bitstring Status List encoding: round trip, size, and hostile input."""

from __future__ import annotations

import base64
import gzip

import pytest

from verify.report import StatusListError
from verify.status_list import StatusCode, decode_status_list, encode_status_list, status_at, status_in

# The example encodedList of the W3C Bitstring Status List v1.0 recommendation (16 KB, all zero).
W3C_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_round_trip():
    codes = {0: 1, 1: 2, 2: 3, 7: 1, 1000: 2, 65535: 3}
    encoded = encode_status_list(codes)
    bitstring = decode_status_list(encoded)
    for index in range(0, 65536, 7):
        assert status_in(bitstring, index) == codes.get(index, 0)
    for index, code in codes.items():
        assert status_at(encoded, index) == code


def test_minimum_size_is_16_kb_and_compresses_well():
    encoded = encode_status_list({3: int(StatusCode.REVOKED)})
    assert encoded.startswith("u")
    assert len(decode_status_list(encoded)) == 16 * 1024
    assert len(encoded) < 200


def test_grows_beyond_the_minimum():
    encoded = encode_status_list({100_000: 3})
    assert len(decode_status_list(encoded)) == 100_001 * 2 // 8 + 1
    assert status_at(encoded, 100_000) == 3


def test_bit_order_is_most_significant_first():
    bitstring = decode_status_list(encode_status_list({0: 1, 1: 2}))
    assert bitstring[0] == 0b01_10_0000


def test_one_bit_entries():
    encoded = encode_status_list({5: 1}, bits=1)
    assert [status_at(encoded, i, bits=1) for i in range(8)] == [0, 0, 0, 0, 0, 1, 0, 0]


def test_reads_the_w3c_example():
    assert decode_status_list(W3C_EXAMPLE) == bytes(16 * 1024)


def test_rejects_bad_input():
    with pytest.raises(StatusListError):
        encode_status_list({1: 4})
    with pytest.raises(StatusListError):
        status_at(encode_status_list({}), 16 * 1024 * 4)
    with pytest.raises(StatusListError):
        decode_status_list("u!!!")
    with pytest.raises(StatusListError):
        decode_status_list("u" + base64.urlsafe_b64encode(b"not gzip").decode())


def test_refuses_a_gzip_bomb():
    bomb = gzip.compress(bytes(20 * 1024 * 1024))
    with pytest.raises(StatusListError, match="more than"):
        decode_status_list("u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode())
