"""QR codes: byte mode, EC level M, at most version 15."""

import pytest
import qrcode
import zxingcpp
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, QRData

from signing.qr import FAST_MASK, MAX_VERSION, make_qr, qr_image, qr_matrix, qr_version
from signing.qrcodec import encode_matrix
from tests.support.signing import qr_url


def test_340_character_url_fits_version_15() -> None:
    assert qr_version(qr_url(340)) <= MAX_VERSION
    assert make_qr(qr_url(340)).version <= MAX_VERSION


def test_make_qr_rejects_text_beyond_version_15() -> None:
    with pytest.raises(ValueError, match="version 16"):
        make_qr(qr_url(413))


def test_qr_uses_error_correction_m() -> None:
    assert make_qr(qr_url(250)).error_correction == ERROR_CORRECT_M


def test_qr_image_decodes_to_the_text() -> None:
    text = qr_url(330)
    results = zxingcpp.read_barcodes(qr_image(text, box_size=4))
    assert [r.text for r in results] == [text]


@pytest.mark.parametrize("length", [1, 17, 100, 250, 330, 340, 412])
def test_fast_matrix_equals_qrcode_matrix(length: int) -> None:
    text = qr_url(max(length, 40))[:length]
    assert qr_matrix(text, border=0) == make_qr(text, border=0).get_matrix()


def test_fast_encoder_matches_qrcode_beyond_version_15() -> None:
    text = "证照" * 300
    q = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=FAST_MASK)
    q.add_data(QRData(text.encode(), mode=MODE_8BIT_BYTE))
    q.make(fit=True)
    assert encode_matrix(text.encode(), FAST_MASK) == q.get_matrix()


def test_qr_matrix_has_quiet_zone() -> None:
    matrix = qr_matrix(qr_url(100), border=4)
    assert not any(matrix[0]) and not any(row[0] for row in matrix)
    assert len(matrix) == len(qr_matrix(qr_url(100), border=0)) + 8


def test_qr_version_beyond_any_version_is_41() -> None:
    assert qr_version("x" * 3000) == 41
