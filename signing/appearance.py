"""Signature appearances as pyHanko content: a seal image, a text layer drawn by reportlab, and
the stacks of them that the service's signatures show.

- a department's seal: the red round seal alone;
- the marked copy's mark: a framed box of lines, or (see :mod:`signing.marks`) a page-wide layer;
- an enterprise's signature: its red round seal with nothing printed across it, the caption
  (name, signing time) in dark ink in a band below the seal.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import PdfContent, ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.stamp import BaseStampStyle, StaticStampStyle

from signing.marks import MARK_RED, render_mark_pdf

__all__ = ["CAPTION_INK", "FILL", "Layer", "Layers", "PdfPage", "PngImage", "caption_height", "mark_style"]

Rect = tuple[float, float, float, float]
"""(x1, y1, x2, y2) in PDF points on the page."""

FILL = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID,
    y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins(),
    inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
)
"""The appearance fills the field's rectangle."""

CAPTION_INK = (0.12, 0.12, 0.12)
"""An enterprise signature's caption: near-black, like a printed line beside a stamped seal."""
CAPTION_SHARE = 0.2
"""The caption band's height as a share of the seal's side (24 pt under a 120 pt seal)."""


def caption_height(seal_side: float, lines: int) -> float:
    """Height of the caption band under a seal of ``seal_side`` pt for ``lines`` lines (0: none)."""
    return seal_side * CAPTION_SHARE if lines else 0.0


@lru_cache(maxsize=64)
def _encoded_image(png: bytes) -> tuple[int, int, bytes, bytes | None]:
    """(width, height, deflated RGB, deflated alpha or None) of a PNG; cached per image."""
    img: Image.Image = Image.open(io.BytesIO(png))
    img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    alpha = zlib.compress(img.getchannel("A").tobytes(), 9) if img.mode == "RGBA" else None
    rgb = zlib.compress(img.convert("RGB").tobytes(), 9)
    return img.width, img.height, rgb, alpha


class PngImage(PdfContent):
    """A PNG as pyHanko content: image XObject (with soft mask for transparency), built from
    pre-deflated data cached per PNG so that signing does not recompress it each time."""

    def __init__(self, png: bytes) -> None:
        self._png = png
        width, height, _, _ = _encoded_image(png)
        super().__init__(box=layout.BoxConstraints(width, height))

    def render(self) -> bytes:
        writer = self._ensure_writer
        width, height, rgb, alpha = _encoded_image(self._png)

        def image(colour_space: str, data: bytes) -> generic.DictionaryObject:
            return generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/XObject"),
                    pdf_name("/Subtype"): pdf_name("/Image"),
                    pdf_name("/Width"): generic.NumberObject(width),
                    pdf_name("/Height"): generic.NumberObject(height),
                    pdf_name("/ColorSpace"): pdf_name(colour_space),
                    pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                    pdf_name("/Filter"): pdf_name("/FlateDecode"),
                    pdf_name("/Length"): generic.NumberObject(len(data)),
                }
            )

        main = image("/DeviceRGB", rgb)
        if alpha is not None:
            main[pdf_name("/SMask")] = writer.add_object(
                generic.StreamObject(image("/DeviceGray", alpha), encoded_data=alpha)
            )
        ref = writer.add_object(generic.StreamObject(main, encoded_data=rgb))
        self.set_resource(ResourceType.XOBJECT, pdf_name("/SealImg"), ref)
        # multiply, like ink: printed text under the seal stays visible through the red
        self.set_resource(
            ResourceType.EXT_G_STATE,
            pdf_name("/SealInk"),
            generic.DictionaryObject({pdf_name("/BM"): pdf_name("/Multiply")}),
        )
        return b"q /SealInk gs %g 0 0 %g 0 0 cm /SealImg Do Q" % (self.box.width, self.box.height)


class PdfPage(PdfContent):
    """The first page of an in-memory PDF imported as a form XObject (e.g. a reportlab-drawn text
    layer, whose embedded font subset comes along)."""

    def __init__(self, pdf: bytes) -> None:
        self._pdf = pdf
        super().__init__()

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)), page_ix=0)
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        self.set_resource(ResourceType.XOBJECT, pdf_name("/MarkText"), xobj)
        return b"/MarkText Do"


@dataclass(frozen=True)
class Layer:
    """One layer of :class:`Layers`: its content, opacity, and where it goes in the box
    ``(x, y, width, height)`` (None: stretched over the whole box)."""

    content: PdfContent
    opacity: float = 1.0
    at: tuple[float, float, float, float] | None = None


class Layers(PdfContent):
    """Several contents stacked (first at the bottom), each stretched over the box or its own place."""

    def __init__(self, layers: Sequence[Layer], width: float, height: float) -> None:
        self._layers = layers
        super().__init__(box=layout.BoxConstraints(width, height))

    def render(self) -> bytes:
        out = []
        for i, layer in enumerate(self._layers):
            content = layer.content
            content.set_writer(self._ensure_writer)
            ops = content.render()
            self.import_resources(content.resources)
            gs = pdf_name(f"/LayerGS{i}")
            alpha = generic.FloatObject(layer.opacity)
            self.set_resource(
                ResourceType.EXT_G_STATE, gs, generic.DictionaryObject({pdf_name("/CA"): alpha, pdf_name("/ca"): alpha})
            )
            x, y, w, h = layer.at or (0.0, 0.0, self.box.width, self.box.height)
            sx, sy = w / content.box.width, h / content.box.height
            out.append(b"q %s gs %g 0 0 %g %g %g cm %s Q" % (gs.encode("ascii"), sx, sy, x, y, ops))
        return b" ".join(out)


def mark_style(
    rect: Rect,
    lines: Sequence[str],
    image_png: bytes | None,
    *,
    font_size: float = 10.0,
    colour: tuple[float, float, float] = MARK_RED,
    border_width: float = 1.0,
    image_opacity: float | None = None,
    page_layer: bytes | None = None,
    caption_below: bool = False,
) -> BaseStampStyle:
    """The appearance of a signature in ``rect``: ``page_layer`` (a one-page PDF) alone; or
    ``lines`` in a ``colour`` frame over ``image_png``; or, with ``caption_below``, the image as a
    square at the top and the lines in :data:`CAPTION_INK` in a band below it, nothing across it."""
    if not lines and image_png is None and page_layer is None:
        raise ValueError("an appearance needs text lines or an image")
    width, height = abs(rect[2] - rect[0]), abs(rect[3] - rect[1])
    layers: list[Layer] = []
    if page_layer is not None:
        layers.append(Layer(PdfPage(page_layer)))
    elif caption_below and image_png is not None:
        band = min(height / 2, caption_height(min(width, height), len(lines)))
        side = min(width, height - band)
        layers.append(Layer(PngImage(image_png), 1.0, ((width - side) / 2, band, side, side)))
        if lines:
            caption = render_mark_pdf(lines, width, band, font_size=font_size, colour=CAPTION_INK, border_width=0)
            layers.append(Layer(PdfPage(caption), 1.0, (0.0, 0.0, width, band)))
    else:
        if image_png is not None:
            opacity = image_opacity if image_opacity is not None else (0.6 if lines else 1.0)
            layers.append(Layer(PngImage(image_png), opacity))
        if lines:
            text = render_mark_pdf(lines, width, height, font_size=font_size, colour=colour, border_width=border_width)
            layers.append(Layer(PdfPage(text)))
    return StaticStampStyle(
        background=Layers(layers, width, height), background_layout=FILL, background_opacity=1.0, border_width=0
    )
