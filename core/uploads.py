"""The one way files get into (and out of) the portal: certificates, filing proofs, evidence.

Every app that accepts a file goes through this module, so that the rules are the same
everywhere and are enforced on the server, whatever the browser says:

* :func:`validate_upload` decides what a file *is* from its bytes. The file name, its extension
  and the ``Content-Type`` the browser sent are all chosen by the uploader and are ignored. Only
  PDF, JPEG and PNG are accepted; images must decode completely (no truncated files, no
  decompression bombs) and PDFs must open in a PDF parser (pikepdf), unencrypted, free of
  scripts, launch actions, embedded files and data-submitting forms.
* :class:`PrivateFileField` is the form field that runs those checks and remembers the type it
  found on the uploaded file (``detected_mime``).
* :func:`private_upload_to` names stored files ``<prefix>/<yyyy>/<mm>/<random hex><ext>``: the
  extension comes from the content, the user's file name never reaches the disk (it can carry
  path tricks, personal data or a misleading extension). Callers keep the original name in their
  own ``original_name`` field, for display and downloads.
* :func:`serve_private_file` hands a stored file back with headers that stop the browser from
  second-guessing its type or running anything in it. It does not check permissions.

Uploaded files live under ``MEDIA_ROOT``, which no web server serves (see ``STORAGES`` in
settings): the only way out is a view that checks the viewer's right, then calls
:func:`serve_private_file`.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import math
import re
import unicodedata
import uuid
import warnings
import zlib
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import filetype
import pikepdf
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image

__all__ = [
    "UploadKind",
    "ALLOWED_MIME_TYPES",
    "ACCEPT_ATTRIBUTE",
    "MAX_IMAGE_PIXELS",
    "SERVE_CSP",
    "validate_upload",
    "detect_mime",
    "private_upload_to",
    "PrivateUploadTo",
    "PrivateFileField",
    "serve_private_file",
    "read_private_file",
    "serve_private_bytes",
]


class UploadKind(models.TextChoices):
    """The only file types the portal accepts, by MIME type (the value stored or compared)."""

    PDF = "application/pdf", _("PDF document")
    JPEG = "image/jpeg", _("JPEG image")
    PNG = "image/png", _("PNG image")

    @property
    def extension(self) -> str:
        """The extension given to stored files of this kind (always lower case, with the dot)."""
        return _EXTENSION_BY_MIME[self.value]


_EXTENSION_BY_MIME: dict[str, str] = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
# Serving maps the stored extension back to a type. ".jpeg" is accepted for files stored by hand.
_MIME_BY_EXTENSION: dict[str, str] = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
# Pillow decoder for each image type: opening with only that decoder means a file that filetype
# calls a PNG can't be decoded as something else by Pillow's guesswork.
_PIL_FORMAT_BY_MIME: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG"}

ALLOWED_MIME_TYPES: frozenset[str] = frozenset(UploadKind.values)
#: The ``accept`` attribute of file inputs. Listing types (not extensions) lets iOS convert HEIC
#: photos to JPEG, and leaving ``capture`` unset lets phones offer both the camera and files.
ACCEPT_ATTRIBUTE = "application/pdf,image/jpeg,image/png"

#: Largest image accepted, in pixels. Phone cameras take 12-48 MP photos (most save 12 MP by
#: default); 40 MP leaves room for scans while capping decoded memory at about 160 MB.
MAX_IMAGE_PIXELS = 40_000_000

#: Bytes read to identify a file: filetype never looks further than this.
_SNIFF_BYTES = 8192
#: How close to the end of a PDF its ``%%EOF`` marker must be.
_PDF_TAIL_BYTES = 2048
_MB = 1024 * 1024

#: Content-Security-Policy of served files: nothing may load or run, even if a browser were
#: tricked into rendering a stored file as HTML or SVG. Caveat: Chromium and Safari have been
#: reported to refuse their built-in PDF viewer in a sandboxed document; if inline PDF previews
#: come up blank, drop ``sandbox`` for PDFs only (downloads are not affected).
SERVE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
#: PDFs are shown in our own pages (filing proofs in a frame). Chromium's PDF viewer does not
#: run in a sandboxed document, so PDFs get no ``sandbox``; they were refused at upload if they
#: held scripts, launch actions or embedded files, and may only be framed by our own pages.
SERVE_CSP_PDF = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)

_MESSAGES = {
    "too_large": _("The file is %(size)s MB; the largest allowed is %(limit)s MB."),
    "empty": _("The file is empty."),
    "type": _(
        "Only PDF, JPEG or PNG files are accepted. "
        "This file is not one of them (it looks like: %(kind)s)."
    ),
    "type_unknown": _(
        "Only PDF, JPEG or PNG files are accepted. "
        "This file is not one of them (its type could not be recognised)."
    ),
    "bad_image": _(
        "This image is damaged or incomplete and cannot be opened. "
        "Please take the photo or scan it again."
    ),
    "image_too_big": _(
        "This image is too large (%(megapixels)s megapixels; the most allowed is %(limit)s). "
        "Please take the photo at a lower resolution or resize it."
    ),
    "bad_pdf": _(
        "This file is not a valid PDF (it is damaged or incomplete). "
        "Please save or export it again and upload the new file."
    ),
    "pdf_unchecked": _(
        "This PDF could not be checked (it is encrypted, or too complex). "
        "Please print it to a new PDF, or scan it, and upload that instead."
    ),
    "pdf_active_content": _(
        "This PDF contains scripts, launch actions or embedded files, which are not accepted. "
        "Please print it to a new PDF, or scan it, and upload that instead."
    ),
    "pdf_encrypted": _(
        "This PDF is encrypted or protected by a password, so it cannot be checked. "
        "Please print it to a new PDF without a password, or scan it, and upload that instead."
    ),
    "pdf_form": _(
        "This PDF contains a form that sends or loads data (an XFA form or a submit button), "
        "which is not accepted. Please print it to a new PDF, or scan it, and upload that instead."
    ),
}


# --- Detection and validation --------------------------------------------------------------------


def _read_head(f: Any) -> bytes:
    f.seek(0)
    return f.read(_SNIFF_BYTES) or b""


def detect_mime(f: Any) -> str | None:
    """The MIME type ``filetype`` reads from the first 8 KB of ``f`` (None: not recognised).

    Only looks at the magic bytes: use :func:`validate_upload` to accept a file. Leaves ``f`` at
    position 0.
    """
    try:
        kind = filetype.guess(_read_head(f))
    finally:
        f.seek(0)
    return kind.mime if kind is not None else None


def _format_mb(num_bytes: int) -> str:
    """Megabytes with one decimal, rounded up: a file just over 10 MB must not read "10.0 MB"."""
    return f"{math.ceil(num_bytes * 10 / _MB) / 10:.1f}"


def _format_limit_mb(num_bytes: int) -> str:
    mb = num_bytes / _MB
    return f"{mb:.0f}" if mb == int(mb) else f"{mb:.1f}"


def validate_upload(f: UploadedFile, *, max_bytes: int | None = None) -> str:
    """Check an uploaded file by its content and return its MIME type.

    Returns ``"application/pdf"``, ``"image/jpeg"`` or ``"image/png"``; otherwise raises
    :class:`~django.core.exceptions.ValidationError` with one of these codes:

    ``too_large``
        Larger than ``max_bytes`` (default: ``settings.UPLOAD_MAX_BYTES``).
    ``empty``
        Zero bytes.
    ``type``
        Not a PDF, JPEG or PNG *by content* (``filetype`` on the first 8 KB). The name and the
        browser's ``content_type`` are ignored on purpose: both are chosen by the uploader, so a
        program renamed ``certificate.pdf`` is refused and a real PNG named ``x.exe`` is accepted.
    ``bad_image``
        Pillow cannot verify and fully decode it (damaged, truncated), or it has more than
        :data:`MAX_IMAGE_PIXELS` pixels: a tiny PNG can declare a huge canvas that would take
        gigabytes to decode (a "decompression bomb").
    ``bad_pdf``
        Does not start with ``%PDF-`` or has no ``%%EOF`` in its last 2 KB (truncated upload),
        or the PDF parser (pikepdf, i.e. qpdf) cannot open it or finds no page.
    ``pdf_encrypted``
        An encrypted PDF, even one that opens without a password: its objects cannot be
        checked the way a reader will see them.
    ``pdf_unchecked``
        A PDF whose compressed parts would expand beyond what we are willing to inflate, or with
        an absurd number of streams or objects: refused rather than half-checked.
    ``pdf_active_content``
        A PDF with JavaScript (an action, a ``/JS`` entry, a document-level script), a launch
        action, an action that opens another or an embedded file, or embedded files (an
        ``/EmbeddedFiles`` tree, a file specification carrying a file, a file-attachment
        annotation). Reviewers open these files; a proof never needs scripts or attachments.
    ``pdf_form``
        A PDF with an XFA form or an action that submits or imports form data.

    The file is always left at position 0, so it can be saved straight after.
    """
    if max_bytes is None:
        max_bytes = settings.UPLOAD_MAX_BYTES
    try:
        size = f.size
        if size is None:  # a file-like without a known size: measure it
            f.seek(0, 2)
            size = f.tell()
        if size > max_bytes:
            raise ValidationError(
                _MESSAGES["too_large"],
                code="too_large",
                params={"size": _format_mb(size), "limit": _format_limit_mb(max_bytes)},
            )
        if size == 0:
            raise ValidationError(_MESSAGES["empty"], code="empty")

        kind = filetype.guess(_read_head(f))
        if kind is None:
            raise ValidationError(_MESSAGES["type_unknown"], code="type")
        if kind.mime not in ALLOWED_MIME_TYPES:
            raise ValidationError(
                _MESSAGES["type"],
                code="type",
                params={"kind": f"{kind.extension.upper()} ({kind.mime})"},
            )
        if kind.mime == UploadKind.PDF:
            f.seek(0)
            _check_pdf(f.read())
        else:
            _check_image(f, kind.mime)
        return kind.mime
    finally:
        f.seek(0)


def _check_image(f: Any, mime: str) -> None:
    """Verify the image's structure, then decode it fully, refusing decompression bombs.

    ``verify()`` checks chunk structure and checksums but not the pixel data, and leaves the
    image unusable, so the file is opened a second time and ``load()``-ed: that is what catches a
    truncated upload (Pillow refuses truncated data unless ``LOAD_TRUNCATED_IMAGES`` is set).

    Pillow's own bomb guard (``Image.MAX_IMAGE_PIXELS``, ~89 MP) only warns below twice its limit
    and is process-wide; rather than lowering it for everyone we turn the warning into an error
    here and apply our own, lower, limit before decoding anything.
    """
    formats = [_PIL_FORMAT_BY_MIME[mime]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            f.seek(0)
            with Image.open(f, formats=formats) as image:
                pixels = image.width * image.height
                if pixels > MAX_IMAGE_PIXELS:
                    raise _TooManyPixels(pixels)
                image.verify()
            f.seek(0)
            with Image.open(f, formats=formats) as image:
                image.load()
    except _TooManyPixels as exc:
        raise ValidationError(
            _MESSAGES["image_too_big"],
            code="bad_image",
            params={
                "megapixels": f"{exc.pixels / 1_000_000:.0f}",
                "limit": f"{MAX_IMAGE_PIXELS / 1_000_000:.0f}",
            },
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(_MESSAGES["bad_image"], code="bad_image") from exc
    except Exception as exc:  # any failure to decode untrusted data means the image is bad
        # Pillow raises OSError, SyntaxError, ValueError, EOFError, struct.error, ... depending on
        # the decoder and where the data goes wrong; all of them mean the image is unusable.
        raise ValidationError(_MESSAGES["bad_image"], code="bad_image") from exc


class _TooManyPixels(Exception):
    def __init__(self, pixels: int) -> None:
        super().__init__(pixels)
        self.pixels = pixels


# PDF whitespace and delimiters end a name; every other byte is part of it.
_PDF_NAME_END = rb"[\x00\t\n\x0c\r /<>\[\](){}%]"


def _pdf_name_regex(*names: str) -> re.Pattern[bytes]:
    """A regex finding any of ``names`` as a whole PDF name, however it is spelt.

    In a name, ``#xx`` stands for the byte xx, so ``/J#61vaScript`` *is* ``/JavaScript`` to a
    reader: each character may appear literally or hex-escaped (either case). Matching the few
    names we care about directly, rather than decoding every name in the file, keeps the scan in
    C: a PDF stuffed with millions of names costs milliseconds, not seconds.
    """

    def spelling(ch: str) -> str:
        code = "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in f"{ord(ch):02x}")
        return f"(?:{re.escape(ch)}|#{code})"

    alternatives = "|".join("".join(spelling(ch) for ch in name) for name in names)
    return re.compile(b"/(?:" + alternatives.encode() + b")(?=" + _PDF_NAME_END + b"|$)")


_PDF_ACTIVE = _pdf_name_regex("JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles")
_PDF_FLATE = _pdf_name_regex("FlateDecode")
_PDF_IMAGE = _pdf_name_regex("Image")
_PDF_OTHER_FILTER = _pdf_name_regex(
    "ASCIIHexDecode", "ASCII85Decode", "LZWDecode", "RunLengthDecode", "Crypt"
)
# A stream's data starts after "stream" + EOL and runs to "endstream".
_PDF_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
#: Most bytes inflated while looking into a PDF's compressed streams (object streams hide the
#: dictionaries of modern PDFs), and most streams looked at. A real certificate uses a small
#: fraction of either; beyond them the file is refused rather than half-checked.
_PDF_INFLATE_BUDGET = 128 * _MB
_PDF_MAX_STREAMS = 50_000
_INFLATE_STEP = _MB


class _PdfTooComplex(Exception):
    pass


def _check_pdf(data: bytes) -> None:
    """Check a PDF's framing, bound the work it takes, then judge it with a PDF parser.

    1. A real PDF starts with ``%PDF-`` and ends with ``%%EOF`` (incremental updates append
       more sections, each ending with ``%%EOF``); a missing end marker nearly always means the
       upload was cut short.
    2. A cheap screen of the raw bytes, before any parser runs: the names of active content in
       the plain text and in the FlateDecode-compressed non-image streams (object streams hide
       the dictionaries of modern PDFs), inflated piece by piece within a budget. This bounds
       what the parser will have to inflate (a small file must not expand into gigabytes) and
       catches objects a lenient reader might find outside the cross-reference table.
    3. The judgement: pikepdf (qpdf) opens the file as a reader does, decrypting, decoding
       object streams whatever their filter and resolving ``#xx`` escapes in names, and every
       object is walked (see :func:`_pdf_parsed_problem`).
    """
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-_PDF_TAIL_BYTES:]:
        raise ValidationError(_MESSAGES["bad_pdf"], code="bad_pdf")
    active = ValidationError(_MESSAGES["pdf_active_content"], code="pdf_active_content")
    if _PDF_ACTIVE.search(data):
        raise active
    budget = _PDF_INFLATE_BUDGET
    try:
        for body in _pdf_flate_streams(data):
            for chunk in _inflate(body):
                budget -= len(chunk)
                if budget < 0:
                    raise _PdfTooComplex
                if _PDF_ACTIVE.search(chunk):
                    raise active
        code = _pdf_parsed_problem(data)
    except _PdfTooComplex:
        raise ValidationError(_MESSAGES["pdf_unchecked"], code="pdf_unchecked") from None
    if code is not None:
        raise ValidationError(_MESSAGES[code], code=code)


#: Most objects a PDF may have (a scanned certificate has tens, a long report a few thousand),
#: and most dictionary and array entries looked at in all of them: beyond either, the file is
#: refused as too complex rather than half-checked.
_PDF_MAX_OBJECTS = 100_000
_PDF_MAX_ENTRIES = 1_000_000
#: Dictionary keys that are active content wherever they appear.
_PDF_BAD_KEYS: dict[str, str] = {
    "/JS": "pdf_active_content",  # the script of a JavaScript or rendition action
    "/JavaScript": "pdf_active_content",  # the document's scripts, in the names dictionary
    "/EmbeddedFiles": "pdf_active_content",  # the document's attached files
    "/EF": "pdf_active_content",  # a file specification that carries the file itself
    "/XFA": "pdf_form",  # an XFA form (in /AcroForm)
}
#: Values of /S (an action's type), /Subtype and /Type that are active content.
_PDF_BAD_TYPES: dict[str, str] = {
    "/JavaScript": "pdf_active_content",
    "/Launch": "pdf_active_content",
    "/GoToR": "pdf_active_content",  # opens another file (a network path leaks credentials)
    "/GoToE": "pdf_active_content",  # opens an embedded file
    "/EmbeddedFile": "pdf_active_content",
    "/FileAttachment": "pdf_active_content",  # an annotation holding a file
    "/RichMedia": "pdf_active_content",  # embedded players (Flash) and their files
    "/SubmitForm": "pdf_form",
    "/ImportData": "pdf_form",
}
_PDF_TYPE_KEYS = frozenset({"/S", "/Subtype", "/Type"})


def _pdf_parsed_problem(data: bytes) -> str | None:
    """Open the PDF with pikepdf and return the code of the first problem found, or None.

    Every object of the file is visited: those in object streams are decoded by the parser, so
    an action hidden in a compressed (or hex-encoded, or LZW-compressed) object stream is seen
    as it is. Direct objects (an action written inline in the catalogue) are walked into, and
    indirect ones visited once, as entries of the object table. Raises :class:`_PdfTooComplex`
    beyond :data:`_PDF_MAX_OBJECTS` objects or :data:`_PDF_MAX_ENTRIES` entries.
    """
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return "pdf_encrypted"
    except Exception:  # noqa: BLE001 (qpdf refuses damaged files in many ways)
        return "bad_pdf"
    with pdf:
        if pdf.is_encrypted:  # opened with the empty user password: still refused
            return "pdf_encrypted"
        try:
            if int(pdf.trailer.get("/Size", 0)) > _PDF_MAX_OBJECTS:
                raise _PdfTooComplex
            if len(pdf.pages) == 0:
                return "bad_pdf"
            entries = 0
            for count, obj in enumerate(pdf.objects, start=1):
                if count > _PDF_MAX_OBJECTS:
                    raise _PdfTooComplex
                pending = [obj]
                while pending:
                    item = pending.pop()
                    if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
                        pairs = item.items()
                    elif isinstance(item, pikepdf.Array):
                        pairs = ((None, value) for value in item)
                    else:
                        continue
                    for key, value in pairs:
                        entries += 1
                        if entries > _PDF_MAX_ENTRIES:
                            raise _PdfTooComplex
                        if key in _PDF_BAD_KEYS:
                            return _PDF_BAD_KEYS[key]
                        if key in _PDF_TYPE_KEYS and isinstance(value, pikepdf.Name):
                            code = _PDF_BAD_TYPES.get(str(value))
                            if code is not None:
                                return code
                        if (
                            isinstance(value, pikepdf.Dictionary | pikepdf.Array)
                            and not value.is_indirect
                        ):
                            pending.append(value)
        except _PdfTooComplex:
            raise
        except Exception:  # noqa: BLE001 (an object the parser cannot read is damage)
            return "bad_pdf"
    return None


def _pdf_flate_streams(data: bytes) -> Iterable[bytes]:
    """The raw data of each stream whose dictionary asks for FlateDecode alone, images excepted."""
    pos = 0
    for _count in range(_PDF_MAX_STREAMS + 1):
        match = _PDF_STREAM.search(data, pos)
        if match is None:
            return
        if _count == _PDF_MAX_STREAMS:
            raise _PdfTooComplex
        end = data.find(b"endstream", match.end())
        if end < 0:
            end = len(data)
        head = data[pos : match.start()]
        dictionary = head[head.rfind(b"obj") + 3 :] if b"obj" in head else head[-4096:]
        if (
            _PDF_FLATE.search(dictionary)
            and not _PDF_IMAGE.search(dictionary)
            and not _PDF_OTHER_FILTER.search(dictionary)
        ):
            yield data[match.end() : end]
        pos = end + len(b"endstream")


def _inflate(body: bytes) -> Iterable[bytes]:
    """Inflate a zlib stream piece by piece (with overlap, so a name split between pieces is seen).

    A stream that does not inflate is skipped: readers cannot decode it either.
    """
    decompressor = zlib.decompressobj()
    pending = body
    overlap = b""
    while pending:
        try:
            chunk = decompressor.decompress(pending, _INFLATE_STEP)
        except zlib.error:
            return
        pending = decompressor.unconsumed_tail
        if chunk:
            yield overlap + chunk
            overlap = chunk[-256:]
        if decompressor.eof or not chunk:
            return


# --- Storage names --------------------------------------------------------------------------------


@deconstructible(path="core.uploads.PrivateUploadTo")
class PrivateUploadTo:
    """A FileField ``upload_to`` naming files ``<prefix>/<yyyy>/<mm>/<uuid4 hex><ext>``.

    A class rather than a closure so that migrations can serialise it. The extension comes from
    the file's content, in this order:

    1. the uncommitted file being saved on ``instance`` (when Django's FileField calls us from
       ``pre_save``): its ``detected_mime`` (set by :class:`PrivateFileField`) or, failing that,
       its first bytes read again with ``filetype``;
    2. ``instance._detected_mime`` (set it before calling ``instance.<field>.save(name, content)``
       directly, since Django does not pass that content to ``upload_to``).

    It raises ``ValueError`` if neither gives an accepted type: saving a file nobody validated is
    a programming error, not something to guess an extension for.
    """

    def __init__(self, prefix: str) -> None:
        prefix = prefix.strip("/")
        if not prefix or any(part in ("", ".", "..") for part in prefix.split("/")):
            raise ValueError(f"Bad upload prefix: {prefix!r}")
        self.prefix = prefix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateUploadTo) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)

    def __call__(self, instance: Any, filename: str) -> str:
        mime = _mime_of_pending_file(instance, filename) or getattr(
            instance, "_detected_mime", None
        )
        if mime not in ALLOWED_MIME_TYPES:
            raise ValueError(
                "PrivateUploadTo could not tell the type of the file being saved: validate it "
                "with validate_upload() (PrivateFileField does) or set instance._detected_mime."
            )
        today = timezone.localdate() if settings.USE_TZ else datetime.date.today()
        return f"{self.prefix}/{today:%Y}/{today:%m}/{uuid.uuid4().hex}{_EXTENSION_BY_MIME[mime]}"


def private_upload_to(prefix: str) -> PrivateUploadTo:
    """``upload_to`` for private files: ``models.FileField(upload_to=private_upload_to("proofs"))``.

    See :class:`PrivateUploadTo`. The original file name is dropped; store it yourself.
    """
    return PrivateUploadTo(prefix)


def _mime_of_pending_file(instance: Any, filename: str) -> str | None:
    """The type of the not-yet-saved file on one of ``instance``'s FileFields, if there is one.

    ``upload_to`` is not told which field it serves, so look for an uncommitted FieldFile; prefer
    the one whose name is the one being saved (a model may take several files at once).
    """
    meta = getattr(instance, "_meta", None)
    if meta is None:
        return None
    pending: list[FieldFile] = []
    for field in meta.concrete_fields:
        if isinstance(field, models.FileField):
            value = getattr(instance, field.attname, None)
            if isinstance(value, FieldFile) and value and not value._committed:
                pending.append(value)
    if not pending:
        return None
    named = [value for value in pending if value.name == filename]
    if not named and len(pending) > 1:
        return None
    content = (named or pending)[0].file
    mime = getattr(content, "detected_mime", None)
    if mime in ALLOWED_MIME_TYPES:
        return mime
    position = content.tell() if hasattr(content, "tell") else 0
    try:
        return detect_mime(content)
    finally:
        content.seek(position)


# --- Forms ------------------------------------------------------------------------------------------


class PrivateFileField(forms.FileField):
    """A form field for certificates, proofs and evidence: PDF, JPEG or PNG, checked by content.

    ``clean()`` runs :func:`validate_upload` on a new upload and records the type it found as
    ``detected_mime`` on the returned :class:`UploadedFile` (used by :class:`PrivateUploadTo` to
    pick the stored extension, and by callers that store the type). Keeping the existing file or
    clearing it passes through unchanged.

    The input gets ``accept="application/pdf,image/jpeg,image/png"`` (a hint to the file picker;
    the server decides) and no ``capture`` attribute, so phones offer the camera *and* files.
    """

    def __init__(self, *, max_bytes: int | None = None, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.setdefault("accept", ACCEPT_ATTRIBUTE)
        return attrs

    def clean(self, data: Any, initial: Any = None) -> Any:
        cleaned = super().clean(data, initial)
        if isinstance(cleaned, UploadedFile):
            cleaned.detected_mime = validate_upload(cleaned, max_bytes=self.max_bytes)
        return cleaned


# --- Serving ----------------------------------------------------------------------------------------


def _safe_download_name(name: str, extension: str) -> str:
    """The user's file name made safe for a header, ending with an extension matching the type."""
    name = PurePosixPath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = name.strip().strip(".")[:150] or "file"
    suffix = PurePosixPath(name).suffix.lower()
    if _MIME_BY_EXTENSION.get(suffix) != _MIME_BY_EXTENSION[extension]:
        name += extension  # "证书" → "证书.pdf"; "scan.exe" holding a PNG → "scan.exe.png"
    return name


def content_disposition(name: str, *, inline: bool = True) -> str:
    """``inline|attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded`` (RFC 6266,
    RFC 5987), so that Chinese names survive and old clients still get a usable name. Every
    download of the portal (files, PDFs, spreadsheets) names itself through this."""
    disposition = "inline" if inline else "attachment"
    path = PurePosixPath(name)
    ascii_stem = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._") or "file"
    fallback = ascii_stem + path.suffix.encode("ascii", "ignore").decode()
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def serve_private_file(
    field_file: FieldFile, *, download_name: str | None = None, inline: bool = True
) -> FileResponse:
    """Stream a stored private file with headers that keep the browser from misusing it.

    **This does not check permissions.** The calling view must get the owning object through a
    scoped selector (one that only returns what the requesting user may see) *before* calling
    this; it only decides *how* the bytes go out:

    * ``Content-Type`` from the stored extension, which :class:`PrivateUploadTo` derived from the
      content; anything but PDF/JPEG/PNG is refused (404), so no stored file can be served as
      HTML or SVG.
    * ``Content-Disposition``: ``inline`` (preview) or ``attachment`` (download), with
      ``download_name`` (normally the model's ``original_name``) as an RFC 5987 UTF-8
      ``filename*`` plus an ASCII fallback. Its extension is corrected to match the real type.
    * ``X-Content-Type-Options: nosniff``, ``Cache-Control: private, no-store`` (personal data:
      no shared or disk caches) and :data:`SERVE_CSP` (nothing may load or run).

    Raises :class:`~django.http.Http404` if the field is empty or the file is missing on disk.
    """
    name = field_file.name if field_file else ""
    if not name:
        raise Http404("No file.")
    extension = PurePosixPath(name).suffix.lower()
    content_type = _MIME_BY_EXTENSION.get(extension)
    if content_type is None:
        raise Http404("Not a servable file type.")
    try:
        handle = field_file.storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    response = FileResponse(handle, content_type=content_type)
    shown_name = _safe_download_name(download_name or PurePosixPath(name).name, extension)
    return _inert_headers(response, content_type, shown_name, inline)


def _inert_headers(response, content_type: str, shown_name: str, inline: bool):
    response["Content-Disposition"] = content_disposition(shown_name, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = (
        SERVE_CSP_PDF if content_type == "application/pdf" else SERVE_CSP
    )
    return response


def read_private_file(field_file: FieldFile) -> tuple[bytes, str]:
    """The bytes of a stored private file and their type (from the stored extension), for a
    view that serves a changed copy (a watermarked one) through :func:`serve_private_bytes`.
    Raises :class:`~django.http.Http404` as :func:`serve_private_file` does."""
    name = field_file.name if field_file else ""
    if not name:
        raise Http404("No file.")
    content_type = _MIME_BY_EXTENSION.get(PurePosixPath(name).suffix.lower())
    if content_type is None:
        raise Http404("Not a servable file type.")
    try:
        with field_file.storage.open(name, "rb") as handle:
            return handle.read(), content_type
    except FileNotFoundError:
        raise Http404("The file is missing.") from None


def serve_private_bytes(
    content: bytes, *, content_type: str, download_name: str, inline: bool = True
) -> HttpResponse:
    """Like :func:`serve_private_file`, for bytes made by the portal from a stored file: the
    same type check, name and headers. **This does not check permissions** either."""
    extension = _EXTENSION_BY_MIME.get(content_type)
    if extension is None:
        raise Http404("Not a servable file type.")
    response = HttpResponse(content, content_type=content_type)
    shown_name = _safe_download_name(download_name, extension)
    return _inert_headers(response, content_type, shown_name, inline)


# --- Content hashes ---------------------------------------------------------------------------------


def content_sha256(f: Any) -> str:
    """The SHA-256 (hex) of a file's bytes: an upload, or a stored file opened for reading.
    Read in chunks and rewound, so the caller can still save the upload afterwards. The same
    document uploaded twice (under two names, by two people) has the same hash."""
    digest = hashlib.sha256()
    if hasattr(f, "seek"):
        f.seek(0)
    chunks = f.chunks() if hasattr(f, "chunks") else iter(lambda: f.read(_MB), b"")
    for chunk in chunks:
        digest.update(chunk)
    if hasattr(f, "seek"):
        f.seek(0)
    return digest.hexdigest()
