"""core.uploads: files are judged by their bytes, stored under random names, served inertly.

Every file here is built in the test (Pillow images, a hand-written PDF), nothing is mocked."""

import io
import re
import warnings
import zlib
from urllib.parse import quote

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import models
from django.db.migrations.writer import MigrationWriter
from django.http import Http404
from django.test.utils import isolate_apps
from django.utils import timezone
from PIL import Image

from core.uploads import (
    ACCEPT_ATTRIBUTE,
    PrivateFileField,
    PrivateUploadTo,
    UploadKind,
    private_upload_to,
    serve_private_file,
    validate_upload,
)

# These tests read the English source messages.
pytestmark = pytest.mark.usefixtures("english")


MB = 1024 * 1024


# --- Real files --------------------------------------------------------------------------------


def png_bytes(size=(64, 48)) -> bytes:
    # Noise, so that the compressed data is long enough to cut in half meaningfully.
    noise = bytes((i * 7919) % 251 for i in range(size[0] * size[1] * 3))
    image = Image.frombytes("RGB", size, noise)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def pdf_bytes(catalog_extra: bytes = b"", extra_objects: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF written by hand: header, objects, cross-reference table, trailer, %%EOF."""
    content = b"0 0 m 100 100 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def object_stream(*objects: bytes) -> bytes:
    """A compressed object stream (PDF 1.5+) holding `objects` as objects 10, 11, ..."""
    body = b""
    offsets = []
    for obj in objects:
        offsets.append(len(body))
        body += obj + b" "
    header = b" ".join(b"%d %d" % (10 + i, off) for i, off in enumerate(offsets)) + b" "
    data = zlib.compress(header + body)
    return (
        b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(objects), len(header), len(data))
        + data
        + b"\nendstream"
    )


def upload(content: bytes, name: str = "file.bin", content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def codes(excinfo) -> list[str]:
    return [error.code for error in excinfo.value.error_list]


def message(excinfo) -> str:
    return " ".join(excinfo.value.messages)


# --- Accepted files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (png_bytes(), "image/png"),
        (jpeg_bytes(), "image/jpeg"),
        (pdf_bytes(), "application/pdf"),
    ],
    ids=["png", "jpeg", "pdf"],
)
def test_real_pdf_jpeg_and_png_are_accepted_with_their_mime_type(content, expected):
    f = upload(content, name="证书")
    assert validate_upload(f) == expected
    assert f.tell() == 0  # ready to be saved


def test_content_wins_over_name_and_browser_type_a_png_named_exe_is_a_png():
    f = upload(png_bytes(), name="x.exe", content_type="application/x-msdownload")
    assert validate_upload(f) == "image/png"


def test_a_jpeg_announced_as_pdf_is_a_jpeg():
    assert validate_upload(upload(jpeg_bytes(), "scan.pdf", "application/pdf")) == "image/jpeg"


def test_upload_kind_lists_exactly_the_three_types():
    assert set(UploadKind.values) == {"application/pdf", "image/jpeg", "image/png"}
    assert UploadKind.JPEG.extension == ".jpg"


# --- Size ----------------------------------------------------------------------------------------


def test_a_50_mb_file_is_refused_as_too_large_saying_both_sizes():
    # A sparse temporary file: 50 MB on paper, almost nothing on disk or in memory.
    f = TemporaryUploadedFile("big.pdf", "application/pdf", 50 * MB, None)
    try:
        f.write(b"%PDF-1.4\n")
        f.truncate(50 * MB)
        f.seek(0)
        with pytest.raises(ValidationError) as excinfo:
            validate_upload(f)
        assert codes(excinfo) == ["too_large"]
        assert message(excinfo) == "The file is 50.0 MB; the largest allowed is 10 MB."
        assert f.tell() == 0
    finally:
        f.close()


def test_the_size_limit_follows_settings_and_the_max_bytes_argument(settings):
    content = pdf_bytes() + b"%" * (2 * MB)  # still a PDF; the padding is a comment
    content += b"\n%%EOF\n"
    settings.UPLOAD_MAX_BYTES = 1 * MB
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(content))
    assert codes(excinfo) == ["too_large"]
    assert "the largest allowed is 1 MB" in message(excinfo)
    assert validate_upload(upload(content), max_bytes=3 * MB) == "application/pdf"


def test_a_file_just_over_the_limit_does_not_read_as_the_limit():
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(b"%PDF-" + b"0" * (MB + 1000)), max_bytes=MB)
    assert message(excinfo) == "The file is 1.1 MB; the largest allowed is 1 MB."


def test_an_empty_file_is_refused_as_empty():
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(b"", "empty.pdf", "application/pdf"))
    assert codes(excinfo) == ["empty"]


# --- Type --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, looks_like",
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 4000, "EXE (application/x-msdownload)"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 4000, "ELF (application/x-executable)"),
    ],
    ids=["windows-exe", "elf"],
)
def test_an_executable_renamed_certificate_pdf_is_refused_by_content(content, looks_like):
    f = upload(content, "certificate.pdf", "application/pdf")
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(f)
    assert codes(excinfo) == ["type"]
    assert message(excinfo) == (
        "Only PDF, JPEG or PNG files are accepted. "
        f"This file is not one of them (it looks like: {looks_like})."
    )
    assert f.tell() == 0


def test_a_text_file_renamed_jpg_is_refused_as_unrecognised():
    f = upload("这不是照片 — just text\n".encode() * 50, "photo.jpg", "image/jpeg")
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(f)
    assert codes(excinfo) == ["type"]
    assert "its type could not be recognised" in message(excinfo)


def test_another_image_type_is_refused_by_type():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(buffer.getvalue(), "a.png", "image/png"))
    assert codes(excinfo) == ["type"]
    assert "image/gif" in message(excinfo)


# --- Broken images and bombs -------------------------------------------------------------------


def test_a_truncated_png_is_refused_as_bad_image():
    content = png_bytes()
    f = upload(content[: len(content) // 2], "half.png", "image/png")
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(f)
    assert codes(excinfo) == ["bad_image"]
    assert f.tell() == 0


def test_a_truncated_jpeg_is_refused_as_bad_image():
    content = jpeg_bytes()
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(content[: len(content) // 2], "half.jpg"))
    assert codes(excinfo) == ["bad_image"]


def test_a_png_signature_followed_by_garbage_is_refused_as_bad_image():
    garbage = bytes((i * 31 + 7) % 256 for i in range(2000))
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(b"\x89PNG\r\n\x1a\n" + garbage, "x.png"))
    assert codes(excinfo) == ["bad_image"]


@pytest.mark.filterwarnings("error")  # no DecompressionBombWarning may escape either
@pytest.mark.parametrize(
    "size",
    [(7000, 6000), (10000, 10000), (20000, 20000)],
    ids=["42MP-over-our-limit", "100MP-pillow-warns", "400MP-pillow-errors"],
)
def test_a_decompression_bomb_png_is_refused_as_bad_image(size):
    # A 1-bit blank canvas compresses to almost nothing but would decode to gigabytes.
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 2 * MB
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(buffer.getvalue(), "bomb.png"))
    assert codes(excinfo) == ["bad_image"]


def test_bomb_checks_leave_pillows_global_limit_and_warning_filters_alone():
    before = (Image.MAX_IMAGE_PIXELS, list(warnings.filters))
    validate_upload(upload(png_bytes(), "ok.png"))
    assert (Image.MAX_IMAGE_PIXELS, list(warnings.filters)) == before


# --- PDFs --------------------------------------------------------------------------------------


def test_a_pdf_without_its_end_marker_is_refused_as_bad_pdf():
    content = pdf_bytes()
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(content[: len(content) - 40], "cut.pdf"))
    assert codes(excinfo) == ["bad_pdf"]


def test_pdf_magic_without_the_dash_and_version_is_refused_as_bad_pdf():
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(b"%PDF garbage\n%%EOF\n", "x.pdf"))
    assert codes(excinfo) == ["bad_pdf"]


@pytest.mark.parametrize(
    "catalog_extra, extra_objects",
    [
        (b" /OpenAction 5 0 R", (b"<< /S /JavaScript /JS (app.alert('hi')) >>",)),
        (b" /OpenAction 5 0 R", (b"<< /S /J#61vaScript /JS (app.alert('hi')) >>",)),
        (b" /OpenAction 5 0 R", (b"<< /S /#4AavaScr#69pt /JS (app.alert('hi')) >>",)),
        (b" /OpenAction 5 0 R", (b"<< /S /Launch /F (calc.exe) >>",)),
        (b" /Names << /EmbeddedFiles 5 0 R >>", (b"<< /Names [(a.exe) 6 0 R] >>",)),
        (b" /OpenAction 10 0 R", (object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>"),)),
    ],
    ids=[
        "javascript",
        "hex-escaped-javascript",
        "upper-case-hex-escapes",
        "launch",
        "embedded-file",
        "in-object-stream",
    ],
)
def test_a_pdf_with_scripts_launch_actions_or_attachments_is_refused(catalog_extra, extra_objects):
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(pdf_bytes(catalog_extra, extra_objects), "report.pdf"))
    assert codes(excinfo) == ["pdf_active_content"]
    assert "scripts, launch actions or embedded files" in message(excinfo)


def test_a_pdf_with_a_harmless_object_stream_is_accepted():
    content = pdf_bytes(b" /Metadata 10 0 R", (object_stream(b"<< /Producer (scanner) >>"),))
    assert validate_upload(upload(content, "scan.pdf")) == "application/pdf"


def test_a_pdf_whose_streams_inflate_beyond_the_budget_is_refused_as_unchecked():
    compressor = zlib.compressobj(9)
    bomb = b"".join(compressor.compress(b"\0" * MB) for _ in range(130)) + compressor.flush()
    stream = b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(bomb) + bomb + b"\nendstream"
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(pdf_bytes(extra_objects=(stream,)), "zip-bomb.pdf"))
    assert codes(excinfo) == ["pdf_unchecked"]


def test_a_pdf_with_an_absurd_number_of_streams_is_refused_as_unchecked():
    empty = zlib.compress(b"")
    stream = b"<< /Filter /FlateDecode >>\nstream\n" + empty + b"\nendstream"
    content = pdf_bytes(extra_objects=(stream,) * 50_001)
    with pytest.raises(ValidationError) as excinfo:
        validate_upload(upload(content, "many.pdf"))
    assert codes(excinfo) == ["pdf_unchecked"]


def test_names_that_merely_start_like_active_ones_are_harmless():
    content = pdf_bytes(b" /JavaScriptless true /Launcher (x) /MyEmbeddedFile 1")
    assert validate_upload(upload(content, "ok.pdf")) == "application/pdf"


# --- Form field --------------------------------------------------------------------------------


def test_the_form_field_validates_and_records_the_detected_type():
    field = PrivateFileField()
    cleaned = field.clean(upload(jpeg_bytes(), "IMG_0001.HEIC", "image/heic"))
    assert cleaned.detected_mime == "image/jpeg"
    with pytest.raises(ValidationError) as excinfo:
        field.clean(upload(b"MZ" + b"\0" * 100, "certificate.pdf"))
    assert codes(excinfo) == ["type"]


def test_the_form_field_keeps_an_existing_file_without_rechecking_it():
    field = PrivateFileField(required=False)
    assert field.clean(None, initial="proofs/2026/01/abc.pdf") == "proofs/2026/01/abc.pdf"


def test_the_form_field_passes_its_own_size_limit():
    with pytest.raises(ValidationError) as excinfo:
        PrivateFileField(max_bytes=100).clean(upload(png_bytes()))
    assert codes(excinfo) == ["too_large"]


def test_the_file_input_accepts_the_three_types_and_does_not_force_the_camera():
    assert ACCEPT_ATTRIBUTE == "application/pdf,image/jpeg,image/png"

    class ProofForm(forms.Form):
        proof = PrivateFileField()

    html = str(ProofForm()["proof"])
    assert 'accept="application/pdf,image/jpeg,image/png"' in html
    assert "capture" not in html


# --- Storage names -----------------------------------------------------------------------------


@pytest.fixture
def proof_model():
    """A throw-away model with a private FileField (no table: nothing here touches the DB)."""
    with isolate_apps("portal"):

        class Proof(models.Model):
            scan = models.FileField(upload_to=private_upload_to("proofs"))
            original_name = models.CharField(max_length=255)

            class Meta:
                app_label = "portal"

            def __str__(self) -> str:
                return self.original_name

        yield Proof


STORED_NAME = re.compile(r"^proofs/(\d{4})/(\d{2})/([0-9a-f]{32})(\.pdf|\.jpg|\.png)$")


@pytest.mark.parametrize(
    "content, name, ext",
    [
        (png_bytes(), "我的证书.exe", ".png"),
        (jpeg_bytes(), "彭建国 身份证.pdf", ".jpg"),
        (pdf_bytes(), "../../etc/passwd.png", ".pdf"),
    ],
    ids=["png-named-exe", "jpeg-named-pdf", "pdf-with-path-tricks"],
)
def test_stored_names_are_random_with_the_extension_of_the_content(proof_model, content, name, ext):
    proof = proof_model(scan=upload(content, name), original_name=name)  # no validation first
    stored = proof._meta.get_field("scan").pre_save(proof, add=True)  # what Model.save() does
    match = STORED_NAME.match(stored.name)
    assert match, stored.name
    today = timezone.localdate()
    assert match.groups()[:2] == (f"{today:%Y}", f"{today:%m}")
    assert match.group(4) == ext
    assert "证书" not in stored.name and "passwd" not in stored.name and ".." not in stored.name
    assert default_storage.open(stored.name).read() == content


def test_the_upload_to_uses_the_type_the_form_field_detected(proof_model):
    cleaned = PrivateFileField().clean(upload(pdf_bytes(), "证书"))
    proof = proof_model(scan=cleaned, original_name=cleaned.name)
    stored = proof._meta.get_field("scan").pre_save(proof, add=True)
    assert stored.name.endswith(".pdf")
    assert proof.original_name == "证书"


def test_saving_content_directly_uses_the_detected_type_set_on_the_instance(proof_model):
    proof = proof_model()
    content = ContentFile(png_bytes())
    proof._detected_mime = validate_upload(content)
    proof.scan.save("名字.pdf", content, save=False)
    assert STORED_NAME.match(proof.scan.name).group(4) == ".png"


def test_saving_an_unrecognised_file_is_a_programming_error(proof_model):
    proof = proof_model(scan=upload(b"plain text", "a.txt"))
    with pytest.raises(ValueError, match="validate_upload"):
        proof._meta.get_field("scan").pre_save(proof, add=True)


def test_each_stored_name_is_new():
    upload_to = private_upload_to("evidence")

    class Carrier:
        _detected_mime = "application/pdf"

    names = {upload_to(Carrier(), "same.pdf") for _ in range(50)}
    assert len(names) == 50
    assert all(name.startswith("evidence/") and name.endswith(".pdf") for name in names)


def test_the_upload_to_can_be_written_into_a_migration():
    field = models.FileField(upload_to=private_upload_to("certificates"))
    source, imports = MigrationWriter.serialize(field)
    assert "core.uploads.PrivateUploadTo('certificates')" in source
    assert "import core.uploads" in imports
    assert private_upload_to("/certificates/") == PrivateUploadTo("certificates")


@pytest.mark.parametrize("prefix", ["", "/", "a/../b", "a//b"])
def test_a_prefix_that_could_escape_or_is_empty_is_refused(prefix):
    with pytest.raises(ValueError):
        private_upload_to(prefix)


# --- Serving -----------------------------------------------------------------------------------


def stored(proof_model, name: str, content: bytes):
    saved = default_storage.save(name, ContentFile(content))
    return proof_model(scan=saved).scan  # a FieldFile on the default (tmp MEDIA_ROOT) storage


def body(response) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        # Close the file only: response.close() also sends request_finished, which would touch
        # database connections left open by earlier tests.
        response.file_to_stream.close()


def test_a_pdf_is_served_inline_with_a_chinese_name_and_inert_headers(proof_model):
    content = pdf_bytes()
    field_file = stored(proof_model, "proofs/2026/01/0123abcd.pdf", content)
    response = serve_private_file(field_file, download_name="证书.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "inline; filename=\"file.pdf\"; filename*=UTF-8''" + quote("证书.pdf")
    )
    assert "filename*=UTF-8''%E8%AF%81%E4%B9%A6.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    # No sandbox for PDFs (Chromium's viewer refuses it); only our own pages may frame them.
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    assert int(response["Content-Length"]) == len(content)
    assert body(response) == content


def test_a_download_is_an_attachment_and_its_name_gets_the_real_extension(proof_model):
    field_file = stored(proof_model, "proofs/2026/01/feed.png", png_bytes())
    response = serve_private_file(field_file, download_name="扫描件.exe", inline=False)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"exe.png\"; filename*=UTF-8''" + quote("扫描件.exe.png")
    )
    body(response)


def test_an_ascii_name_is_kept_and_quotes_or_paths_cannot_break_the_header(proof_model):
    field_file = stored(proof_model, "proofs/2026/01/beef.jpg", jpeg_bytes())
    response = serve_private_file(field_file, download_name='..\\evil"\r\nX-Bad: 1.jpeg')
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith('inline; filename="evil_X-Bad_1.jpeg"; filename*=UTF-8')
    assert response["Content-Type"] == "image/jpeg"
    body(response)


def test_without_a_download_name_the_stored_name_is_used(proof_model):
    field_file = stored(proof_model, "proofs/2026/01/cafe.pdf", pdf_bytes())
    response = serve_private_file(field_file)
    assert 'filename="cafe.pdf"' in response["Content-Disposition"]
    body(response)


def test_a_file_missing_on_disk_is_a_404(proof_model):
    field_file = proof_model(scan="proofs/2026/01/gone.pdf").scan
    with pytest.raises(Http404):
        serve_private_file(field_file)
    with pytest.raises(Http404):
        serve_private_file(proof_model().scan)  # empty field


def test_a_stored_file_of_another_type_is_never_served(proof_model):
    field_file = stored(proof_model, "proofs/2026/01/page.html", b"<script>alert(1)</script>")
    with pytest.raises(Http404):
        serve_private_file(field_file)
