"""QR codes: error correction Q, at most version 20, a licence link's token in alphanumeric mode;
the fast encoder's matrices equal the ``qrcode`` package's for the same segments."""

import base64
import os

import pytest
import qrcode
import zxingcpp
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from signing.qr import FAST_MASK, MAX_VERSION, make_qr, qr_image, qr_matrix, qr_segments, qr_version
from signing.qrcodec import encode_matrix
from tests.support.signing import qr_url

BASE = "https://certsvc.example.gov.cn/v/"


def licence_link(token_bytes: int) -> str:
    """A licence link as the service prints it: base URL, /v/, an upper-case base32 token."""
    return BASE + base64.b32encode(os.urandom(token_bytes)).decode().rstrip("=")


def reference(head: bytes, tail: str, ec: int, version: int | None = None) -> list[list[bool]]:
    """The ``qrcode`` package's matrix of a byte segment then an alphanumeric one, mask 3."""
    q = qrcode.QRCode(version=version, error_correction=ec, border=0, mask_pattern=FAST_MASK)
    if head or not tail:
        q.add_data(QRData(head, mode=MODE_8BIT_BYTE))
    if tail:
        q.add_data(QRData(tail, mode=MODE_ALPHA_NUM))
    q.make(fit=version is None)
    return q.get_matrix()


def test_licence_link_token_goes_in_alphanumeric_mode() -> None:
    head, tail = qr_segments(licence_link(40))
    assert head == b"https://certsvc.example.gov.cn/v"
    assert tail.startswith("/") and len(tail) == 1 + 64


def test_lower_case_text_stays_in_byte_mode() -> None:
    assert qr_segments(qr_url(100)) == (qr_url(100).encode(), "")


def test_a_250_byte_token_is_version_16_at_level_q() -> None:
    assert qr_version(licence_link(250)) == 16
    assert make_qr(licence_link(250)).version == 16


def test_make_qr_rejects_text_beyond_version_20() -> None:
    assert make_qr(licence_link(400)).version == MAX_VERSION == 20
    with pytest.raises(ValueError, match="version 21"):
        make_qr(licence_link(420))


def test_qr_uses_error_correction_q() -> None:
    assert make_qr(licence_link(200)).error_correction == ERROR_CORRECT_Q


def test_qr_image_decodes_to_the_text() -> None:
    text = licence_link(280)
    results = zxingcpp.read_barcodes(qr_image(text, box_size=4))
    assert [r.text for r in results] == [text]


@pytest.mark.parametrize("token_bytes", [5, 60, 150, 240, 300])
def test_fast_matrix_equals_qrcode_matrix(token_bytes: int) -> None:
    text = licence_link(token_bytes)
    assert qr_matrix(text, border=0) == make_qr(text, border=0).get_matrix()


@pytest.mark.parametrize("length", [1, 17, 100, 250])
def test_fast_matrix_equals_qrcode_matrix_in_byte_mode(length: int) -> None:
    text = qr_url(max(length, 40))[:length]
    assert qr_matrix(text, border=0) == make_qr(text, border=0).get_matrix()


@pytest.mark.parametrize("ec", [ERROR_CORRECT_M, ERROR_CORRECT_Q, ERROR_CORRECT_H])
@pytest.mark.parametrize("tail_len", [0, 1, 2, 9, 10, 301])
def test_fast_encoder_matches_qrcode_at_each_level_and_segment_length(ec: int, tail_len: int) -> None:
    head = "https://证照.example/v".encode()
    tail = ("/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 $%*+-.:" * 8)[:tail_len]
    assert encode_matrix(head, FAST_MASK, alnum=tail, ec=ec) == reference(head, tail, ec)


def test_fast_encoder_matches_qrcode_with_only_an_alphanumeric_segment() -> None:
    tail = "HTTPS://CERTSVC.EXAMPLE/V/" + "A7" * 100
    assert encode_matrix(b"", FAST_MASK, alnum=tail, ec=ERROR_CORRECT_Q) == reference(b"", tail, ERROR_CORRECT_Q)


def test_fast_encoder_matches_qrcode_beyond_version_26() -> None:
    head = ("证照" * 60).encode()
    tail = "ABC123" * 100
    assert len(encode_matrix(head, FAST_MASK, alnum=tail, ec=ERROR_CORRECT_Q)) >= 4 * 27 + 17
    assert encode_matrix(head, FAST_MASK, alnum=tail, ec=ERROR_CORRECT_Q) == reference(head, tail, ERROR_CORRECT_Q)


def test_encoder_refuses_characters_outside_alphanumeric_mode() -> None:
    with pytest.raises(ValueError, match="alphanumeric"):
        encode_matrix(b"", FAST_MASK, alnum="abc", ec=ERROR_CORRECT_Q)


def test_qr_matrix_has_quiet_zone() -> None:
    matrix = qr_matrix(qr_url(100), border=4)
    assert not any(matrix[0]) and not any(row[0] for row in matrix)
    assert len(matrix) == len(qr_matrix(qr_url(100), border=0)) + 8


def test_qr_version_beyond_any_version_is_41() -> None:
    assert qr_version("x" * 3000) == 41
