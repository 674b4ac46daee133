"""The marked copy's watermark (加注水印): "仅供 X 用于 Y <date>" repeated diagonally across the page,
light enough to read the licence under it, still a genuine copy with its grant, and still there
after the box is cropped away."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from certsvc.core.clock import CST, now
from signing.layout import MARK_RECT, PAGE_SIZE, QR_RECT
from signing.pipeline import MARK_FIELD
from tests.support.pdfcheck import qr_texts, signature_status
from tests.support.service import Service, make_enterprise

JSON = {"Accept": "application/json"}
DPI = 72  # one pixel per point: page coordinates map straight onto the image


pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("mutool") is None, reason="needs poppler-utils and mupdf-tools"
)


@dataclass(frozen=True)
class Copies:
    dir: Path
    marked: bytes
    original: bytes
    grant_id: str


@pytest.fixture(scope="module")
def copies(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Copies:
    """A licence's original and one marked copy, both also as files, and the grant's id."""
    ent = make_enterprise(service)
    c = service.client
    body = {"licence_ids": [ent.food_licence["id"]], "grantee_name": "中国银行深圳分行", "purpose": "开立对公账户"}
    g = c.post("/api/v1/enterprise/grants", headers=ent.auth, json=body).json()
    share = c.get(g["share_url"].removeprefix("http://testserver"), headers=JSON).json()
    marked = c.get(share["licences"][0]["download_url"].removeprefix("http://testserver")).content
    original = c.get(ent.food_licence["pdf_url"], headers=service.health.auth).content
    d = tmp_path_factory.mktemp("marked")
    (d / "marked.pdf").write_bytes(marked)
    (d / "original.pdf").write_bytes(original)
    return Copies(d, marked, original, g["id"])


def _pdftotext(path: Path, *crop: str) -> str:
    out = subprocess.run(["pdftotext", "-raw", *crop, str(path), "-"], capture_output=True, text=True, timeout=60)
    return "".join(out.stdout.split())  # rotated text comes out a character per line


def _render(path: Path) -> Image.Image:
    png = path.with_suffix(".png")
    subprocess.run(["mutool", "draw", "-q", "-r", str(DPI), "-o", str(png), str(path), "1"], check=True, timeout=60)
    return Image.open(png).convert("L")


def _watermark() -> str:
    return f"仅供中国银行深圳分行用于开立对公账户{now().astimezone(CST).date().isoformat()}"


def test_the_watermark_is_text_that_pdftotext_reads(copies) -> None:
    text = _pdftotext(copies.dir / "marked.pdf")
    assert text.count(_watermark()) >= 6  # repeated across the page (rows cut at its edges count less)
    assert _watermark() not in _pdftotext(copies.dir / "original.pdf")


def test_cropping_the_box_away_leaves_the_watermark(copies) -> None:
    """The page below the box (everything but its top 110 pt) still carries the mark, whole."""
    _w, height = PAGE_SIZE
    below_box = height - MARK_RECT[1] + 10
    crop = ["-x", "0", "-y", str(int(below_box)), "-W", str(int(PAGE_SIZE[0])), "-H", str(int(height - below_box))]
    text = _pdftotext(copies.dir / "marked.pdf", *crop)
    assert "有效期至" not in text  # the box is outside the crop
    assert text.count(_watermark()) >= 4


def test_the_watermark_is_light_and_leaves_the_licence_text_legible(copies) -> None:
    marked, original = _render(copies.dir / "marked.pdf"), _render(copies.dir / "original.pdf")
    x1, y1, x2, y2 = MARK_RECT
    width = marked.width
    top, bottom = int(PAGE_SIZE[1] - y2), int(PAGE_SIZE[1] - y1)
    box = {(x, y) for x in range(int(x1), int(x2) + 1) for y in range(top, bottom + 1)}
    changed = [
        (m, o)
        for i, (m, o) in enumerate(zip(marked.tobytes(), original.tobytes(), strict=True))
        if m != o and (i % width, i // width) not in box
    ]
    assert len(changed) > marked.width * marked.height // 50  # visible across the page
    # where the page was white, the watermark is a light grey; where there was ink, it stays dark
    on_white = [m for m, o in changed if o > 250]
    assert on_white and min(on_white) > 170
    on_ink = [m for m, o in changed if o < 80]
    assert all(m < 110 for m in on_ink)


def test_the_qr_code_is_kept_clear_and_still_scans(copies) -> None:
    marked, original = _render(copies.dir / "marked.pdf"), _render(copies.dir / "original.pdf")
    x1, y1, x2, y2 = QR_RECT
    box = (int(x1), int(PAGE_SIZE[1] - y2), int(x2), int(PAGE_SIZE[1] - y1))
    assert marked.crop(box).tobytes() == original.crop(box).tobytes()
    assert qr_texts(copies.marked) == qr_texts(copies.original) != []


def test_the_watermarked_copy_is_genuine_with_its_grant(service, copies) -> None:
    v = service.client.post("/api/v1/verify", files={"file": ("copy.pdf", copies.marked, "application/pdf")}).json()
    assert v["verdict"] == "genuine", v["checks"]
    assert v["grant"]["id"] == copies.grant_id and v["grant"]["active"] is True
    _sig, seal = signature_status(service.ctx, copies.marked, 0)  # pyHanko's default policy: plain form filling
    assert seal.intact and seal.valid and seal.docmdp_ok and seal.modification_level.name == "FORM_FILLING"


def test_the_mark_does_not_catch_clicks_over_the_page(copies) -> None:
    """The field spans the page; its widget is read-only, so links and other fields stay usable."""
    page = PdfFileReader(BytesIO(copies.marked)).root["/Pages"]["/Kids"][0].get_object()
    [widget] = [a.get_object() for a in page["/Annots"] if a.get_object().get("/T") == MARK_FIELD]
    flags = int(widget["/F"])
    assert flags & 64 and flags & 4 and not flags & 2  # read-only, printed, shown
