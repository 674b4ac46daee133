"""QR codes: byte mode, EC level M, at most version 15."""

import pytest
import zxingcpp

from signing.qr import MAX_VERSION, make_qr, qr_image, qr_version

from .conftest import qr_url


def test_340_character_url_fits_version_15() -> None:
    assert qr_version(qr_url(340)) <= MAX_VERSION
    assert make_qr(qr_url(340)).version <= MAX_VERSION


def test_make_qr_rejects_text_beyond_version_15() -> None:
    with pytest.raises(ValueError, match="version 16"):
        make_qr(qr_url(413))


def test_qr_uses_error_correction_m() -> None:
    from qrcode.constants import ERROR_CORRECT_M

    assert make_qr(qr_url(250)).error_correction == ERROR_CORRECT_M


def test_qr_image_decodes_to_the_text() -> None:
    text = qr_url(330)
    results = zxingcpp.read_barcodes(qr_image(text, box_size=4))
    assert [r.text for r in results] == [text]
