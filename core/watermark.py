"""Visible watermarks on copies of sensitive files (ID-card scans shown to firm reviewers).

A watermark is a few lines of text (who is looking, the date, what the copy may be used for)
repeated diagonally across the whole image or page, semi-transparent, so that a screenshot or a
saved copy always says where it came from. The lines are plain values: who gets a watermark, and
what it says, is the caller's decision.

* :func:`watermark_image` draws it into a JPEG or PNG (Pillow) and returns new bytes of the same
  type; EXIF data (camera, place) is dropped and very large images are scaled down.
* :func:`watermark_pdf` stamps it on every page of a PDF (pikepdf): the page's content (with
  its annotations flattened into it) becomes a form XObject drawn first, then the watermark
  image over it, so nothing in the original can draw over the watermark or undo it.
* :func:`watermark` chooses between the two by MIME type.

Chinese text needs a CJK font: Noto Sans CJK (Debian's ``fonts-noto-cjk``), else Pillow's
built-in font, which has no Chinese glyphs.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zlib
from collections.abc import Sequence

import pikepdf
from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = [
    "WatermarkError",
    "watermark_lines",
    "watermark",
    "watermark_image",
    "watermark_pdf",
]

#: Noto Sans CJK, as Debian installs it; face 2 of the collection has the Simplified Chinese forms.
FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_FONT_INDEX_SC = 2
#: The colour of the text and its opacity (0-255): visible on white and on a photo, and the
#: document underneath stays readable.
COLOR = (200, 30, 30)
OPACITY = 90
ANGLE = 30
#: Longest side of a watermarked image, in pixels: enough to read an ID card, and it bounds the
#: work (uploads may be up to 40 megapixels).
MAX_IMAGE_SIDE = 2000
#: Pixels of the watermark layer per PDF point (1.5: 108 dpi), and its longest side.
_PDF_SCALE = 1.5
_PDF_MAX_SIDE = 2000
#: Most pages stamped: beyond this the PDF is refused rather than half-marked.
MAX_PDF_PAGES = 500


class WatermarkError(Exception):
    """The file could not be read or stamped; the caller must not serve the original instead."""


def watermark_lines(*, viewer: str, day: dt.date, purpose: str) -> list[str]:
    """The usual lines: the purpose, who is viewing, the date."""
    return [purpose, viewer, day.isoformat()]


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_PATH, size, index=_FONT_INDEX_SC)
    except OSError:
        return ImageFont.load_default(size=size)


def _block(lines: Sequence[str], font_px: int) -> Image.Image:
    """One block of the text, centred lines: an "L" image, 255 where the text is."""
    font = _font(font_px)
    boxes = [font.getbbox(line) for line in lines]
    line_height = int(font_px * 1.4)
    width = max((box[2] - box[0] for box in boxes), default=1) + 2
    height = line_height * len(lines) + 2
    block = Image.new("L", (max(width, 1), max(height, 1)), 0)
    draw = ImageDraw.Draw(block)
    for i, (line, box) in enumerate(zip(lines, boxes, strict=True)):
        x = (width - (box[2] - box[0])) // 2 - box[0]
        draw.text((x, i * line_height - box[1]), line, fill=255, font=font)
    return block


def _mask(size: tuple[int, int], lines: Sequence[str]) -> Image.Image:
    """The watermark's opacity over an area of `size` pixels ("L", 0 = transparent): the text
    in staggered rows on a square that covers the area at any angle, turned by ANGLE degrees and
    cut to size."""
    width, height = size
    font_px = max(12, min(width, height) // 24)
    block = _block(lines, font_px)
    side = int((width**2 + height**2) ** 0.5) + 1
    canvas = Image.new("L", (side, side), 0)
    step_x = block.width + font_px * 3
    step_y = block.height + font_px * 2
    for row, y in enumerate(range(0, side, step_y)):
        shift = (step_x // 2) * (row % 2)
        for x in range(-shift, side, step_x):
            canvas.paste(block, (x, y))
    canvas = canvas.rotate(ANGLE, resample=Image.Resampling.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    canvas = canvas.crop((left, top, left + width, top + height))
    return canvas.point(lambda value: value * OPACITY // 255)


# --- images ---------------------------------------------------------------------------------------

_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG"}


def watermark_image(data: bytes, *, mime: str, lines: Sequence[str]) -> bytes:
    """The JPEG or PNG `data` with the watermark drawn across it, as the same type."""
    try:
        image_format = _PIL_FORMAT[mime]
        with Image.open(io.BytesIO(data), formats=[image_format]) as opened:
            image = ImageOps.exif_transpose(opened)  # upright, as phones show it
            image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
            base = image.convert("RGBA")
    except Exception as exc:  # any failure to decode the stored file
        raise WatermarkError(str(exc)) from exc
    layer = Image.new("RGBA", base.size, (*COLOR, 0))
    layer.putalpha(_mask(base.size, lines))
    marked = Image.alpha_composite(base, layer)
    out = io.BytesIO()
    if image_format == "JPEG":
        marked.convert("RGB").save(out, "JPEG", quality=85)
    else:
        marked.save(out, "PNG", optimize=True)
    return out.getvalue()


# --- PDFs -----------------------------------------------------------------------------------------


def _placement(box: Sequence[float], rotate: int) -> tuple[float, float, list[float]]:
    """The size the page is shown at (width, height in points) and the matrix that maps the
    unit square (the watermark image) onto the page's box so that it shows upright whatever the
    page's /Rotate (a clockwise turn when shown)."""
    x0, y0, x1, y1 = (
        min(box[0], box[2]),
        min(box[1], box[3]),
        max(box[0], box[2]),
        max(box[1], box[3]),
    )
    w, h = x1 - x0, y1 - y0
    if rotate == 90:
        return h, w, [0, h, -w, 0, x0 + w, y0]
    if rotate == 180:
        return w, h, [-w, 0, 0, -h, x0 + w, y0 + h]
    if rotate == 270:
        return h, w, [0, -h, w, 0, x0, y0 + h]
    return w, h, [w, 0, 0, h, x0, y0]


def _pdf_image(pdf: pikepdf.Pdf, size: tuple[int, int], lines: Sequence[str]) -> pikepdf.Stream:
    """The watermark as an image XObject: a plain colour, its opacity in a soft mask."""
    mask = _mask(size, lines)
    width, height = size
    soft_mask = pikepdf.Stream(
        pdf,
        zlib.compress(mask.tobytes()),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=width,
        Height=height,
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
        Filter=pikepdf.Name.FlateDecode,
    )
    colour = pikepdf.Stream(
        pdf,
        zlib.compress(bytes(COLOR)),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=1,
        Height=1,
        ColorSpace=pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.FlateDecode,
        SMask=soft_mask,
    )
    return colour


def _pdf_layer_size(shown_w: float, shown_h: float) -> tuple[int, int]:
    scale = min(_PDF_SCALE, _PDF_MAX_SIDE / max(shown_w, shown_h, 1))
    return max(1, round(shown_w * scale)), max(1, round(shown_h * scale))


def watermark_pdf(data: bytes, *, lines: Sequence[str]) -> bytes:
    """The PDF `data` with the watermark stamped over every page."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise WatermarkError(f"more than {MAX_PDF_PAGES} pages")
            # Annotations (form fields, stamps, notes) are drawn above the page's content: make
            # them part of it, so that none can cover the watermark.
            pdf.flatten_annotations(mode="all")
            images: dict[tuple[int, int], pikepdf.Stream] = {}
            for page in pdf.pages:
                rotate = page.rotation % 360  # inherited from the page tree too
                shown_w, shown_h, matrix = _placement(
                    [float(v) for v in page.cropbox], rotate if rotate % 90 == 0 else 0
                )
                size = _pdf_layer_size(shown_w, shown_h)
                if size not in images:
                    images[size] = _pdf_image(pdf, size, lines)
                # The original content, wrapped: a form XObject runs in its own graphics state,
                # so whatever it leaves behind (an unbalanced Q, a clip) cannot reach the stamp.
                original = page.as_form_xobject(handle_transformations=False)
                # Its data is read from the page's contents when saved: take a copy now,
                # before they are replaced.
                original.write(original.read_bytes())
                page.obj.Resources = pikepdf.Dictionary(
                    XObject=pikepdf.Dictionary(Page=original, Watermark=images[size])
                )
                cm = " ".join(f"{v:.4f}" for v in matrix)
                page.obj.Contents = pikepdf.Stream(
                    pdf, f"q /Page Do Q\nq {cm} cm /Watermark Do Q\n".encode()
                )
            out = io.BytesIO()
            pdf.save(out)
    except WatermarkError:
        raise
    except Exception as exc:  # pikepdf.PdfError, PasswordError, and damaged files
        raise WatermarkError(str(exc)) from exc
    return out.getvalue()


def watermark(data: bytes, *, mime: str, lines: Sequence[str]) -> bytes:
    """`data` (a PDF, JPEG or PNG) with the watermark; the type does not change."""
    if mime == "application/pdf":
        return watermark_pdf(data, lines=lines)
    if mime in _PIL_FORMAT:
        return watermark_image(data, mime=mime, lines=lines)
    raise WatermarkError(f"cannot watermark {mime}")
