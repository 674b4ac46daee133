"""A licence's QR survives print and phone: error correction Q, one seamless path, a printable
version for a licence of realistic length (a long public base URL, a long Chinese holder name), read
by zxing-cpp and zbar from the real PDF rasterised at 72–300 dpi with blur, JPEG compression,
rotation, keystone and a phone-size downscale (:mod:`tests.support.qrscan`). The full matrix is
``slow`` (zbar is not asked for the two conditions in :data:`~tests.support.qrscan.BEYOND_ZBAR`);
the default run reads a handful of its conditions with both decoders."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
import zxingcpp
from PIL import Image

from signing.layout import QR_RECT
from signing.qr import qr_matrix, qr_version
from tests.support.data import food_licence_body
from tests.support.qrscan import BEYOND_ZBAR, CONDITIONS, DECODERS, SMOKE, Condition, framed, render
from tests.support.service import running_service

pytestmark = pytest.mark.files

BASE = "https://zwfw.amr.shenzhen.gov.cn"  # a public base URL of realistic length (32 characters)
HOLDER = "新疆维吾尔自治区乌鲁木齐市天山区某某某某餐饮管理服务有限责任公司第一分公司"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, bytes]]:
    """A food licence of realistic length and its sealed PDF, from a service on a long base URL."""
    with running_service(tmp_path_factory.mktemp("certsvc"), CERTSVC_PUBLIC_BASE_URL=BASE) as svc:
        r = svc.client.post("/api/v1/licences", headers=svc.health.auth, json=food_licence_body(name=HOLDER))
        assert r.status_code == 201, r.text
        lic = r.json()
        pdf = svc.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=svc.health.auth)
        assert pdf.status_code == 200
        assert svc.client.get(lic["verify_url"].removeprefix(BASE), headers=JSON).json()["number"] == lic["number"]
        yield lic, pdf.content


@pytest.fixture(scope="module")
def page(printed) -> Iterator[object]:
    pdf = printed[1]
    yield cache(lambda dpi: render(pdf, dpi))


def _seen(page, cond: Condition) -> Image.Image:
    img = page(cond.dpi)
    return cond.change(framed(img, cond.dpi) if cond.frame else img)


def test_qr_is_error_correction_q_at_a_printable_version(printed) -> None:
    lic, pdf = printed
    codes = zxingcpp.read_barcodes(render(pdf, 300))
    assert [(c.text, c.ec_level) for c in codes] == [(lic["verify_url"], "Q")]
    assert qr_version(lic["verify_url"]) <= 17
    module_mm = (QR_RECT[2] - QR_RECT[0]) / len(qr_matrix(lic["verify_url"], border=0)) * 25.4 / 72
    assert module_mm >= 0.5


def test_qr_is_drawn_without_seams(printed) -> None:
    """Where two dark modules meet, the rasterised page is as dark as inside them: no anti-aliasing
    seam between separately filled shapes (at 150 dpi a module is 2.9 px, so edges fall mid-pixel)."""
    lic, pdf = printed
    dpi = 150
    img = render(pdf, dpi)
    matrix = qr_matrix(lic["verify_url"], border=0)
    n = len(matrix)
    k = dpi / 72
    x0, top = QR_RECT[0] * k, img.height - QR_RECT[3] * k
    step = (QR_RECT[2] - QR_RECT[0]) * k / n
    seams = []
    for r in range(n - 1):
        for c in range(n):
            if matrix[r][c] and matrix[r + 1][c]:  # the boundary between two dark modules, one above the other
                x, y = x0 + (c + 0.5) * step, top + (r + 1) * step
                value = img.getpixel((int(x), int(y)))
                if value > 40:
                    seams.append((r, c, value))
    assert not seams, f"{len(seams)} light pixels between dark modules, e.g. {seams[:5]}"


@pytest.mark.parametrize("decoder", list(DECODERS))
@pytest.mark.parametrize("condition", SMOKE)
def test_qr_reads_under_print_and_phone_conditions(printed, page, condition: str, decoder: str) -> None:
    cond = next(c for c in CONDITIONS if c.name == condition)
    assert DECODERS[decoder](_seen(page, cond)) == [printed[0]["verify_url"]]


FULL_MATRIX = [
    pytest.param(cond, decoder, id=f"{cond.name}-{decoder}")
    for cond in CONDITIONS
    for decoder in DECODERS
    if not (decoder == "zbar" and cond.name in BEYOND_ZBAR)
]


@pytest.mark.slow
@pytest.mark.parametrize(("cond", "decoder"), FULL_MATRIX)
def test_qr_reads_under_every_print_and_phone_condition(printed, page, cond: Condition, decoder: str) -> None:
    assert DECODERS[decoder](_seen(page, cond)) == [printed[0]["verify_url"]]
