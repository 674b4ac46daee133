"""The PDFs the service makes are well-formed for other software (SPEC "Formats for other software",
"The PDF"), as independent tools see them: poppler (``pdfinfo``, ``pdffonts``, ``pdftotext``,
``pdfsig``) and MuPDF (``mutool``); the XMP packet is parsed with the standard library's XML parser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from signing.layout import MARK_RECT
from signing.pipeline import MARK_FIELD
from tests.support.documents import plain_pdf
from tests.support.produced import every_kind
from tests.support.service import Service

TOOLS = ("pdfinfo", "pdffonts", "pdftotext", "pdfsig", "mutool")
OURS = ("licence", "business_licence", "marked_copy", "receipt")
KINDS = (*OURS, "enterprise_signed")
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
GBT = "urn:certsvc:xmp:gbt36903:1.0#"
JSON = {"Accept": "application/json"}

pytestmark = [
    pytest.mark.files,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason="needs poppler-utils and mupdf-tools"),
]


@pytest.fixture(scope="module")
def made(service: Service, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """One file of every kind the service makes, through its API, on disk → (path, what the API
    says about it)."""
    d = tmp_path_factory.mktemp("made")
    out = {}
    for kind, (pdf, about) in every_kind(service, "SQ202612020009").items():
        (d / f"{kind}.pdf").write_bytes(pdf)
        out[kind] = (d / f"{kind}.pdf", about)
    return out


def _run(*argv: str | Path) -> str:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=60, check=True).stdout


def _info(path: Path) -> dict[str, str]:
    out = _run("pdfinfo", "-isodates", path)
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def _xmp(path: Path) -> ET.Element:
    out = _run("pdfinfo", "-meta", path)
    return ET.fromstring(out[out.index("<x:xmpmeta") : out.index("</x:xmpmeta>") + len("</x:xmpmeta>")])


def _xmp_value(root: ET.Element, ns: str, name: str) -> str | None:
    """A simple property (attribute or element) or the first rdf:li of an array, in any rdf:Description."""
    tag = f"{{{ns}}}{name}"
    for desc in root.iter(f"{{{NS['rdf']}}}Description"):
        if tag in desc.attrib:
            return desc.attrib[tag]
        el = desc.find(tag)
        if el is not None:
            li = el.find(".//rdf:li", NS)
            return (li if li is not None else el).text
    return None


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _text(path: Path) -> dict[str, str]:
    """The page text as poppler and MuPDF extract it."""
    return {"pdftotext": _run("pdftotext", path, "-"), "mutool": _run("mutool", "draw", "-q", "-F", "txt", path)}


@pytest.mark.parametrize("kind", OURS)
def test_header_and_catalog_version_agree(made, kind) -> None:
    path, _ = made[kind]
    header = path.read_bytes()[:8].decode()
    catalog = _run("mutool", "show", path, "trailer/Root/Version").strip()
    assert header == "%PDF-2.0"
    assert catalog in ("", "/2.0", "null")
    assert _info(path)["PDF version"] == "2.0"


def test_enterprise_signed_upload_keeps_its_header_and_the_catalog_only_raises_it(made) -> None:
    """The upload's bytes stay as they were (its header too); the version the signature needs is
    declared in the catalog, which ISO 32000 reads as overriding an earlier header."""
    path, _ = made["enterprise_signed"]
    header = path.read_bytes()[:8].decode()
    assert header == plain_pdf()[:8].decode()
    catalog = _run("mutool", "show", path, "trailer/Root/Version").strip()
    assert catalog == "/2.0" and float(header[5:]) <= 2.0
    assert _info(path)["PDF version"] == "2.0"


@pytest.mark.parametrize("kind", OURS)
def test_xmp_agrees_with_the_info_dictionary(made, kind) -> None:
    path, _ = made[kind]
    info, xmp = _info(path), _xmp(path)
    assert _xmp_value(xmp, NS["dc"], "title") == info["Title"]
    assert _xmp_value(xmp, NS["dc"], "creator") == info["Author"]
    assert _xmp_value(xmp, NS["dc"], "description") == info["Subject"]
    assert _xmp_value(xmp, NS["pdf"], "Keywords") == info["Keywords"]
    assert _xmp_value(xmp, NS["pdf"], "Producer") == info["Producer"]
    assert _xmp_value(xmp, NS["xmp"], "CreatorTool") == info["Creator"]
    assert _date(_xmp_value(xmp, NS["xmp"], "CreateDate") or "") == _date(info["CreationDate"])
    # pyHanko stamps Info and XMP with the time of each revision it writes, reading the clock twice
    later = _date(_xmp_value(xmp, NS["xmp"], "ModifyDate") or "") - _date(info["ModDate"])
    assert abs(later.total_seconds()) <= 1


@pytest.mark.parametrize("kind", ["licence", "business_licence"])
def test_licence_xmp_carries_the_gbt36903_items(made, kind) -> None:
    path, lic = made[kind]
    xmp = _xmp(path)
    parts = lic["identifier"].split(".")
    expected = {
        "证照名称": lic["licence_type_name"],
        "证照类型代码": parts[5],
        "证照编号": lic["number"],
        "证照标识": lic["identifier"],
        "颁发机构": lic["issuer"],
        "颁发机构代码": parts[6],
        "颁发日期": lic["issued_on"],
        "有效期": f"{lic['valid_from']}/{lic['valid_until'] or '长期'}",
        "持证主体": lic["holder_name"],
        "持证主体代码": lic["holder_uscc"],
        "持证主体代码类型": "统一社会信用代码",
    }
    assert {name: _xmp_value(xmp, GBT, name) for name in expected} == expected
    assert _xmp_value(xmp, NS["dc"], "title") == f"{lic['licence_type_name']} {lic['number']}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_font_subset_has_its_own_tag(made, kind) -> None:
    path, _ = made[kind]
    names = [line.split()[0] for line in _run("pdffonts", path).splitlines()[2:]]
    tags = [name.split("+", 1)[0] for name in names if re.match(r"[A-Z]{6}\+", name)]
    assert tags, names
    assert len(tags) == len(set(tags)), names


def test_a_marked_copy_has_two_subsets_with_different_tags(made) -> None:
    """The page's subset and the mark's (drawn separately) used to share AAAAAA+."""
    path, _ = made["marked_copy"]
    names = [line.split()[0] for line in _run("pdffonts", path).splitlines()[2:]]
    assert len(names) == 2 and len(set(names)) == 2


@pytest.mark.parametrize(("kind", "title"), [("business_licence", "营业执照"), ("licence", "食品经营许可证")])
def test_licence_title_holder_and_number_extract_as_words(made, kind, title) -> None:
    path, lic = made[kind]
    for tool, text in _text(path).items():
        assert title in text, f"{tool}: {text[:200]!r}"
        assert lic["holder_name"] in text, tool
        assert lic["number"] in text and lic["holder_uscc"] in text, tool


def test_receipt_title_extracts_as_a_word(made) -> None:
    path, receipt = made["receipt"]
    for tool, text in _text(path).items():
        assert "受理回执" in text, f"{tool}: {text[:200]!r}"
        assert receipt["application_number"] in text, tool


def test_marked_copy_title_and_mark_extract(made) -> None:
    path, _ = made["marked_copy"]
    text = _run("pdftotext", path, "-")
    assert "食品经营许可证" in text
    assert "中国银行深圳分行" in text


def test_pdfsig_names_the_empty_reserved_field_for_what_it_is(made) -> None:
    path, _ = made["licence"]
    out = _run("pdfsig", path)
    blocks = re.split(r"^Signature #\d+:$", out, flags=re.M)[1:]
    unsigned = [b for b in blocks if "not signed" in b]
    assert len(unsigned) == 1
    name = re.search(r"Signature Field Name: (.*)$", unsigned[0], re.M)
    assert name and name.group(1).strip() == MARK_FIELD and "预留" in MARK_FIELD


def _mark_area(path: Path, tmp_path: Path) -> Image.Image:
    """The reserved mark rectangle of page 1 as MuPDF draws the page, widgets included."""
    png = tmp_path / f"{path.stem}.png"
    _run("mutool", "draw", "-q", "-r", "72", "-o", png, path, "1")
    page = Image.open(png).convert("RGB")
    x1, y1, x2, y2 = MARK_RECT
    return page.crop((x1, page.height - y2, x2, page.height - y1))


def test_fresh_licence_shows_no_signature_placeholder_in_the_reserved_field(made, tmp_path) -> None:
    """MuPDF draws a "SIGN" tag on a visible unsigned signature field; the reserved one is hidden."""
    area = _mark_area(made["licence"][0], tmp_path)
    colours = area.getcolors(maxcolors=area.width * area.height) or []
    assert all(min(rgb) > 240 for _n, rgb in colours), sorted(colours)[-3:]


def test_marked_copy_shows_its_mark_in_the_reserved_field(made, tmp_path) -> None:
    area = _mark_area(made["marked_copy"][0], tmp_path)
    colours = area.getcolors(maxcolors=area.width * area.height) or []
    red = sum(n for n, (r, g, b) in colours if r > 150 and g < 120 and b < 120)
    assert red > 100
