"""The round seal image."""

import io

from PIL import Image

from signing.seal import SEAL_PX, draw_seal, seal_png


def _red_pixels(img: Image.Image) -> int:
    data = img.tobytes()
    pixels = zip(data[0::4], data[1::4], data[2::4], data[3::4], strict=True)
    return sum(1 for r, g, b, a in pixels if a > 200 and r > 180 and g < 80 and b < 80)


def test_seal_is_rgba_with_red_ink() -> None:
    img = draw_seal("广州市天河区市场监督管理局", code="4401060012345")
    assert img.mode == "RGBA"
    assert img.size == (SEAL_PX, SEAL_PX)
    assert _red_pixels(img) > SEAL_PX * SEAL_PX // 20


def test_seal_background_is_transparent() -> None:
    img = draw_seal("广州市天河区市场监督管理局")
    assert img.getpixel((2, 2))[3] == 0
    assert img.getpixel((3 * SEAL_PX // 10, SEAL_PX // 2))[3] == 0  # between the star and the name


def test_seal_png_is_cached_png() -> None:
    a = seal_png("广州市䶮堃喆犇淼燊昇餐饮管理有限公司", "电子营业执照签章", "9144010112345")
    assert a is seal_png("广州市䶮堃喆犇淼燊昇餐饮管理有限公司", "电子营业执照签章", "9144010112345")
    assert Image.open(io.BytesIO(a)).mode == "RGBA"


def test_long_enterprise_name_stays_inside_the_ring() -> None:
    img = draw_seal("广州市䶮堃喆犇淼燊昇国际餐饮管理服务集团股份有限公司第一分公司")
    alpha = img.getchannel("A")
    assert alpha.getbbox() is not None
    left, top, right, bottom = alpha.getbbox()
    assert left >= 0 and top >= 0 and right <= SEAL_PX and bottom <= SEAL_PX
