"""Several photos made into one PDF: the two sides of an ID card, a contract's pages.

Each photo is first judged like every upload (`core.uploads.validate_upload`: JPEG or PNG by
content, decodable, not a decompression bomb), then turned upright by its EXIF orientation (a
phone stores a portrait photo sideways with a flag), shrunk to at most `MAX_SIDE` pixels on its
longer side and flattened to RGB, and the pages are written as one PDF by Pillow. The caller
stores the result through the same `validate_upload` path as any PDF.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from .errors import DomainError
from .uploads import UploadKind, validate_upload

#: The longer side of a page, in pixels: sharp enough to read an ID card, small enough to open.
MAX_SIDE = 2000
#: The most photos combined into one proof.
MAX_PAGES = 12
#: Pages are written at this resolution (a 2000-pixel side is then about 34 cm: zoomable).
RESOLUTION = 150.0


def images_to_pdf(files: Sequence[Any]) -> ContentFile:
    """One PDF of the photos in `files`, in their order; named after the first. Refuses a PDF
    among several files (a PDF is uploaded on its own) and more than `MAX_PAGES` photos."""
    if not files:
        raise DomainError(_("Choose at least one file."), code="empty")
    if len(files) > MAX_PAGES:
        raise DomainError(
            _("At most %(n)s photos make one proof.") % {"n": MAX_PAGES}, code="too_many"
        )
    pages: list[Image.Image] = []
    try:
        for f in files:
            mime = getattr(f, "detected_mime", None) or validate_upload(f)
            if mime == UploadKind.PDF:
                raise DomainError(
                    _(
                        "Several files are combined only from photos (JPEG or PNG); upload a "
                        "PDF on its own."
                    ),
                    code="pdf_among_pages",
                )
            f.seek(0)
            with Image.open(f) as image:
                page = ImageOps.exif_transpose(image)
                page.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                pages.append(page.convert("RGB"))
        out = io.BytesIO()
        pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=RESOLUTION)
    finally:
        for page in pages:
            page.close()
    first = PurePosixPath(getattr(files[0], "name", "") or "proof").stem or "proof"
    return ContentFile(out.getvalue(), name=f"{first}.pdf")
