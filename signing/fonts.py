"""CJK font for the licence PDFs, the seal image and signature appearances.

The font is Noto Serif SC (宋体 style) from the ``pylopdf-fonts-zh-cn`` package. Its outlines are
CFF, which reportlab cannot embed, so it is converted once to TrueType outlines (fontTools cu2qu) and
cached on disk (``$CERTSVC_FONT_CACHE``, default ``~/.cache/certsvc/fonts``). The conversion runs in
a child process (≈30 s, ≈400 MB peak) under a file lock, so several workers starting together
convert it once and the server process does not keep the memory. reportlab embeds only the glyphs
used (subset) in each PDF. Pillow and pyHanko read the OTF files directly.

Call :func:`warm_up` at process start; everything else loads lazily and thread-safely.
"""

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
from PIL import ImageFont
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts

__all__ = [
    "PDF_FONT",
    "cache_dir",
    "convert_otf_to_ttf",
    "ensure_ttf",
    "glyph_outline",
    "missing_chars",
    "outline_ops",
    "pdf_font",
    "pil_font",
    "pil_lock",
    "sans_otf",
    "serif_otf",
    "subset_tag",
    "warm_up",
]

log = logging.getLogger(__name__)

PDF_FONT = "CertsvcNotoSerifSC"
"""Name under which the TrueType font is registered with reportlab."""

_CONVERTER_VERSION = 1
_DROPPED_TABLES = ("CFF ", "VORG", "GSUB", "GPOS", "BASE", "DSIG", "GDEF", "vhea", "vmtx")
_register_lock = threading.Lock()
_pil_lock = threading.RLock()
_registered = False


def serif_otf() -> Path:
    """Path of Noto Serif SC (OTF, CFF outlines) shipped by ``pylopdf-fonts-zh-cn``."""
    return pylopdf_fonts_zh_cn.serif_path()


def sans_otf() -> Path:
    """Path of Noto Sans SC (OTF, CFF outlines) shipped by ``pylopdf-fonts-zh-cn``."""
    return pylopdf_fonts_zh_cn.sans_path()


def cache_dir() -> Path:
    """Directory holding converted fonts (``$CERTSVC_FONT_CACHE`` or ``~/.cache/certsvc/fonts``)."""
    env = os.environ.get("CERTSVC_FONT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "certsvc" / "fonts"


def convert_otf_to_ttf(src: Path, dst: Path) -> None:
    """Convert a CFF-outline OTF to a TrueType-outline TTF (quadratic curves, no layout tables).

    Runs in the calling process; :func:`ensure_ttf` runs it in a child process.
    """
    # fontTools only here: the conversion runs once per font cache, in a child process
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(src)
    if font.sfntVersion != "OTTO" or "CFF " not in font:
        raise ValueError(f"{src} is not a CFF-outline OpenType font")
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    hmtx = font["hmtx"]
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyph = pen.glyph()
        if glyph.numberOfContours:
            glyph.recalcBounds(None)
            hmtx[name] = (hmtx[name][0], glyph.xMin)  # TrueType wants lsb == xMin
        glyphs[name] = glyph
    for tag in _DROPPED_TABLES:
        if tag in font:
            del font[tag]
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    font["post"].formatType = 3.0  # no glyph names
    font.sfntVersion = "\0\1\0\0"
    font.save(dst)


def _cached_name(src: Path) -> str:
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:12]
    return f"{src.stem}-{digest}-tt{_CONVERTER_VERSION}.ttf"


@cache
def ensure_ttf(src: Path | None = None) -> Path:
    """Return the cached TrueType conversion of ``src`` (default Noto Serif SC), converting if absent."""
    src = src or serif_otf()
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: fall back to the temp dir
        directory = Path(tempfile.gettempdir()) / "certsvc-fonts"
        directory.mkdir(parents=True, exist_ok=True)
    dst = directory / _cached_name(src)
    if dst.exists():
        return dst
    with open(directory / (dst.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be converting; wait for it
        if dst.exists():
            return dst
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
        os.close(fd)
        os.chmod(tmp, 0o644)
        started = time.perf_counter()
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]),
        )
        try:
            subprocess.run([sys.executable, "-m", "signing.fonts", str(src), tmp], check=True, env=env)
            os.replace(tmp, dst)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        log.info("converted %s to TrueType in %.1f s", src.name, time.perf_counter() - started)
    return dst


class _GlyphSlicer:
    """Read-only view of the 'glyf' table whose slices are bytes (what reportlab expects)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view

    def __getitem__(self, index: slice) -> bytes:
        return self._view[index].tobytes()


def _share_glyf_table(face: Any) -> None:
    """Make reportlab's subsetter read glyphs from the loaded font instead of copying the whole
    13 MB 'glyf' table for every PDF (≈1.5 ms per page)."""
    get_table = face.get_table
    data = memoryview(face._ttf_data)

    def get_table_shared(tag: str) -> Any:
        if tag != "glyf":
            return get_table(tag)
        pos, length = face.get_table_pos(tag)
        return _GlyphSlicer(data[pos : pos + length])

    face.get_table = get_table_shared


def subset_tag(font_name: str, codes: Sequence[int]) -> str:
    """The six capital letters before the ``+`` of an embedded subset's name, derived from the font and
    the characters in the subset's encoding order: two different subsets (say, of the page and of a
    mark imported later) get different tags, as ISO 32000 requires, and the same subset the same."""
    digest = hashlib.sha256(f"{font_name}:{','.join(map(str, codes))}".encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    letters = []
    for _ in range(6):
        n, r = divmod(n, 26)
        letters.append(chr(ord("A") + r))
    return "".join(letters)


class _TaggedTTFont(ttfonts.TTFont):
    """reportlab's TrueType font whose subsets are tagged by :func:`subset_tag` instead of by their
    number in the document (``AAAAAA+``, ``AAAAAB+``, … in every file, so that a page and a mark drawn
    separately both carried ``AAAAAA+``)."""

    def addObjects(self, doc: Any) -> None:
        # reportlab 5.1's TTFont.addObjects with the subset tag changed
        try:
            state = self.state[doc]
        except KeyError:
            state = self.state[doc] = ttfonts.TTFont.State(self._asciiReadable)
        state.frozen = 1
        face = self.face
        postscript = (face.name + face.subfontNameX).decode("pdfdoc")
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_font = f"{subset_tag(postscript, subset)}+{postscript}"
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {self.fontName} subset {n}"
            pdf_font.Name = internal_name
            pdf_font.BaseFont = base_font
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = pdfdoc.PDFArray(list(map(face.getCharWidth, subset)))
            cmap = pdfdoc.PDFStream()
            cmap.content = ttfonts.makeToUnicodeCMap(base_font, subset)
            if doc.compression:
                cmap.filters = [pdfdoc.PDFZCompress]
            pdf_font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base_font)
            pdf_font.FontDescriptor = face.addSubsetObjects(doc, base_font, subset)
            doc.Reference(pdf_font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = pdf_font
        del self.state[doc]


def pdf_font() -> str:
    """Register the TrueType font with reportlab once per process and return its name."""
    global _registered
    if _registered:
        return PDF_FONT
    with _register_lock:
        if not _registered:
            font = _TaggedTTFont(PDF_FONT, str(ensure_ttf()))
            _share_glyf_table(font.face)
            pdfmetrics.registerFont(font)
            _registered = True
    return PDF_FONT


@cache
def _pdf_path_pen() -> type:
    """A fontTools pen class writing outlines as PDF path operators (quadratic curves as cubics)."""
    from fontTools.pens.basePen import BasePen

    class PdfPathPen(BasePen):
        def __init__(self, glyph_set: Any) -> None:
            super().__init__(glyph_set)
            self.ops: list[str] = []

        # whole font units: 1/1000 em is 0.03 pt on a 30 pt title
        def _moveTo(self, pt: tuple[float, float]) -> None:
            self.ops.append(f"{pt[0]:.0f} {pt[1]:.0f} m")

        def _lineTo(self, pt: tuple[float, float]) -> None:
            self.ops.append(f"{pt[0]:.0f} {pt[1]:.0f} l")

        def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
            self.ops.append(f"{p1[0]:.0f} {p1[1]:.0f} {p2[0]:.0f} {p2[1]:.0f} {p3[0]:.0f} {p3[1]:.0f} c")

        def _closePath(self) -> None:
            self.ops.append("h")

    return PdfPathPen


@lru_cache(maxsize=512)
def glyph_outline(ch: str) -> tuple[str, float]:
    """PDF path operators of the outline of ``ch`` in the PDF font, in units of 1/1000 em with the
    origin on the baseline, and its advance width in ems (cached per character). The glyph is read
    from the font reportlab has loaded and decoded by fontTools."""
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    face = pdfmetrics.getFont(pdf_font()).face
    gid = face.charToGlyph.get(ord(ch))
    if gid is None:
        raise ValueError(f"no glyph for {ch!r}")
    start, _ = face.get_table_pos("glyf")
    glyph = Glyph(bytes(face._ttf_data[start + face.glyphPos[gid] : start + face.glyphPos[gid + 1]]))
    if glyph.isComposite():  # the converted font has none (cu2qu draws every glyph whole)
        raise ValueError(f"composite glyph for {ch!r}")
    pen = _pdf_path_pen()(None)
    glyph.draw(pen, None)
    ops = " ".join(pen.ops)
    if face.unitsPerEm != 1000:
        ops = f"{1000 / face.unitsPerEm:g} 0 0 {1000 / face.unitsPerEm:g} 0 0 cm {ops}"
    return ops, face.charWidths.get(ord(ch), face.defaultWidth) / 1000


@lru_cache(maxsize=256)
def outline_ops(text: str, size: float, spacing: float, x: float, y: float) -> str:
    """PDF operators drawing ``text`` at ``size`` pt as black filled and stroked outlines (faux bold)
    from (x, y), each glyph advanced by its width plus ``spacing`` (cached: a service prints a
    handful of titles)."""
    unit = size / 1000
    ops = ["q 0 g 0 G 30 w"]  # the line width in glyph units (1/1000 em): 0.03 em
    for ch in text:
        path, advance = glyph_outline(ch)
        if path:
            ops.append(f"q {unit:.5f} 0 0 {unit:.5f} {x:.3f} {y:.3f} cm {path} B Q")
        x += advance * size + spacing
    ops.append("Q")
    return "\n".join(ops)


@cache
def _charset() -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(pdf_font()).face.charToGlyph)


def missing_chars(text: str) -> str:
    """Characters of ``text`` the font has no glyph for (whitespace ignored), in order, without repeats."""
    charset = _charset()
    seen: dict[str, None] = {}
    for ch in text:
        if ord(ch) not in charset and not ch.isspace():
            seen[ch] = None
    return "".join(seen)


@lru_cache(maxsize=64)
def pil_font(size: int, *, sans: bool = False) -> ImageFont.FreeTypeFont:
    """A Pillow font of the given pixel size (cached). FreeType faces are not thread-safe: draw
    with them while holding :func:`pil_lock`."""
    with _pil_lock:
        return ImageFont.truetype(str(sans_otf() if sans else serif_otf()), size)


def pil_lock() -> AbstractContextManager[bool]:
    """Lock to hold while drawing text with fonts from :func:`pil_font`."""
    return _pil_lock


def warm_up() -> None:
    """Convert (first run only) and register the PDF font and load the seal fonts and the outlines
    of titles; call at start-up."""
    pdf_font()
    _charset()
    glyph_outline("证")
    pil_font(10)


if __name__ == "__main__":
    convert_otf_to_ttf(Path(sys.argv[1]), Path(sys.argv[2]))
