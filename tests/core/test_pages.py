"""Several photos made into one PDF (core/pages.py): upright by EXIF, downscaled, in order."""

import io

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.errors import DomainError
from core.pages import MAX_SIDE, RESOLUTION, images_to_pdf
from core.uploads import validate_upload

ORIENTATION = 0x0112


def jpeg(name, size, *, orientation=1, color="white"):
    """A phone photo: stored `size` (width, height), with an EXIF orientation flag."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif.tobytes(), quality=80)
    return SimpleUploadedFile(name, out.getvalue(), "image/jpeg")


def page_sizes_px(content: bytes) -> list[tuple[int, int]]:
    with pikepdf.open(io.BytesIO(content)) as pdf:
        sizes = []
        for page in pdf.pages:
            box = [float(v) for v in page.mediabox]
            sizes.append(
                (
                    round((box[2] - box[0]) * RESOLUTION / 72),
                    round((box[3] - box[1]) * RESOLUTION / 72),
                )
            )
        return sizes


def test_two_photos_become_a_two_page_pdf_turned_upright_and_in_order():
    # Both stored landscape, flagged "rotate 90° clockwise" (6) and "rotate 90° anticlockwise" (8),
    # as a phone held upright stores them: both pages come out portrait.
    front = jpeg("front.jpg", (300, 200), orientation=6, color="red")
    back = jpeg("back.jpg", (330, 220), orientation=8, color="blue")

    pdf = images_to_pdf([front, back])

    assert pdf.name == "front.pdf"
    assert validate_upload(pdf) == "application/pdf"  # the path every stored proof takes
    assert page_sizes_px(pdf.read()) == [(200, 300), (220, 330)]


def test_large_photos_are_downscaled_to_the_longest_side():
    big = jpeg("contract-1.jpg", (4000, 3000))
    tall = jpeg("contract-2.jpg", (3000, 4000), orientation=6)  # upright: 4000 wide

    sizes = page_sizes_px(images_to_pdf([big, tall]).read())

    assert sizes == [(MAX_SIDE, 1500), (MAX_SIDE, 1500)]


def test_a_pdf_among_several_files_is_refused(english):
    pdf = images_to_pdf([jpeg("a.jpg", (100, 100))])
    pdf_upload = SimpleUploadedFile("scan.pdf", pdf.read(), "application/pdf")
    with pytest.raises(DomainError, match="upload a PDF on its own"):
        images_to_pdf([jpeg("a.jpg", (100, 100)), pdf_upload])


def test_too_many_photos_are_refused(english):
    with pytest.raises(DomainError, match="At most"):
        images_to_pdf([jpeg(f"{i}.jpg", (20, 20)) for i in range(13)])
