"""core.watermark: the text is drawn across the whole image or every page, visibly, and nothing
in the original can cover it. PDFs are rendered with poppler's pdftoppm to look at them."""

import datetime as dt
import io
import shutil
import subprocess

import pikepdf
import pytest
from PIL import Image

from core.uploads import validate_upload
from core.watermark import (
    FONT_PATH,
    WatermarkError,
    watermark,
    watermark_image,
    watermark_lines,
    watermark_pdf,
)

LINES = watermark_lines(
    viewer="reviewer@firm.example.cn", day=dt.date(2026, 3, 1), purpose="仅供年度登记备案审核使用"
)


def image_bytes(size=(856, 540), color=(235, 240, 245), fmt="PNG", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def reddish(image: Image.Image) -> int:
    """How many pixels are tinted towards the watermark's red."""
    rgb = image.convert("RGB")
    return sum(1 for r, g, b in rgb.getdata() if r - g > 25 and r - b > 25)


def test_the_lines_name_the_purpose_the_viewer_and_the_date():
    assert LINES == ["仅供年度登记备案审核使用", "reviewer@firm.example.cn", "2026-03-01"]


@pytest.mark.parametrize("mime, fmt", [("image/png", "PNG"), ("image/jpeg", "JPEG")])
def test_an_image_gets_the_text_tiled_across_it_and_keeps_its_type_and_size(mime, fmt):
    original = image_bytes(fmt=fmt)
    marked = watermark_image(original, mime=mime, lines=LINES)
    with Image.open(io.BytesIO(marked)) as image:
        assert image.format == fmt
        assert image.size == (856, 540)
        # Tinted all over: in each quarter of the image, not in one corner only.
        w, h = image.size
        for box in [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h)]:
            assert reddish(image.crop(box)) > 200, box
        # Semi-transparent: most of the image is still the original colour.
        assert reddish(image) < w * h * 0.4


def test_the_watermark_names_the_viewer_two_viewers_get_different_copies():
    original = image_bytes()
    other = watermark_lines(viewer="someone@else.cn", day=dt.date(2026, 3, 1), purpose="x")
    assert watermark(original, mime="image/png", lines=LINES) != watermark(
        original, mime="image/png", lines=other
    )


def test_a_large_photo_is_scaled_down_and_loses_its_exif_data():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    original = image_bytes(size=(4000, 3000), fmt="JPEG", exif=exif.tobytes())
    marked = watermark_image(original, mime="image/jpeg", lines=LINES)
    with Image.open(io.BytesIO(marked)) as image:
        assert max(image.size) == 2000
        assert not image.getexif()


def test_chinese_is_drawn_with_the_cjk_font():
    from PIL import ImageFont

    try:
        ImageFont.truetype(FONT_PATH, 12)
    except OSError:
        pytest.skip("fonts-noto-cjk is not installed")
    from core.watermark import _font

    assert "CJK" in _font(20).getname()[0]


def test_a_damaged_image_is_an_error_not_the_original():
    with pytest.raises(WatermarkError):
        watermark(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, mime="image/png", lines=LINES)
    with pytest.raises(WatermarkError):
        watermark(b"<svg/>", mime="image/svg+xml", lines=LINES)


# --- PDFs -------------------------------------------------------------------------------------------


def pdf_with_pages(*, rotations=(0,), content=b"0 0 1 rg 0 742 100 100 re f", annots=None):
    pdf = pikepdf.new()
    for rotate in rotations:
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Contents = pikepdf.Stream(pdf, content)
        if rotate:
            page.obj.Rotate = rotate
        if annots is not None:
            page.obj.Annots = annots(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def rendered(content: bytes) -> list[Image.Image]:
    """Each page as poppler shows it (36 dpi)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    pages = []
    for number in range(1, len(pikepdf.open(io.BytesIO(content)).pages) + 1):
        png = subprocess.run(
            ["pdftoppm", "-r", "36", "-png", "-singlefile", "-f", str(number), "-l", str(number)],
            input=content,
            capture_output=True,
            check=True,
        ).stdout
        pages.append(Image.open(io.BytesIO(png)))
    return pages


def blue(image: Image.Image) -> int:
    return sum(1 for r, g, b in image.convert("RGB").getdata() if b > 200 and r < 80 and g < 80)


def test_every_page_of_a_pdf_is_stamped_whatever_its_rotation_and_keeps_its_content():
    original = pdf_with_pages(rotations=(0, 90, 180, 270))
    marked = watermark_pdf(original, lines=LINES)
    for before, after in zip(rendered(original), rendered(marked), strict=True):
        assert after.size == before.size
        assert reddish(before) == 0
        assert reddish(after) > 500
        assert blue(after) > 0.8 * blue(before) > 0  # the original drawing is still there


def test_an_unbalanced_graphics_state_in_the_original_cannot_hide_the_stamp():
    # Pops more states than it pushed, then squashes the coordinate system to nothing.
    original = pdf_with_pages(content=b"0 0 1 rg 0 742 100 100 re f Q Q Q 0 0 0 0 0 0 cm")
    (page,) = rendered(watermark_pdf(original, lines=LINES))
    assert reddish(page) > 500


def test_an_annotation_covering_the_page_cannot_hide_the_stamp():
    def cover(pdf):
        appearance = pikepdf.Stream(pdf, b"1 1 1 rg 0 0 595 842 re f")
        appearance.Type = pikepdf.Name.XObject
        appearance.Subtype = pikepdf.Name.Form
        appearance.BBox = [0, 0, 595, 842]
        return pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Square,
                    Rect=[0, 0, 595, 842],
                    AP=pikepdf.Dictionary(N=appearance),
                )
            ]
        )

    original = pdf_with_pages(annots=cover)
    (page,) = rendered(watermark_pdf(original, lines=LINES))
    assert reddish(page) > 500


def test_a_stamped_pdf_still_passes_the_upload_checks():
    from django.core.files.uploadedfile import SimpleUploadedFile

    marked = watermark_pdf(pdf_with_pages(), lines=LINES)
    assert validate_upload(SimpleUploadedFile("x.pdf", marked)) == "application/pdf"


def test_a_damaged_pdf_is_an_error_not_the_original():
    with pytest.raises(WatermarkError):
        watermark(b"%PDF-1.4\nnot really\n%%EOF", mime="application/pdf", lines=LINES)
