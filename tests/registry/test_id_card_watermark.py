"""ID-card proofs leave the portal watermarked (issue 11, part 10): everyone but bureau staff
gets a copy marked with the viewer, the date and the purpose; the bureau gets the original."""

import io

import pikepdf
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.uploads import validate_upload
from registry import services
from registry.models import FilingProof
from tests import factories as f

from .conftest import YEAR


def id_card_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (856, 540), (230, 238, 245)).save(out, "PNG")
    return out.getvalue()


def id_card_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(243, 153))  # an ID card's size in points
    pdf.pages[0].obj.Contents = pikepdf.Stream(pdf, b"0 0 1 rg 10 10 50 50 re f")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def reddish(image: Image.Image) -> int:
    return sum(1 for r, g, b in image.convert("RGB").getdata() if r - g > 25 and r - b > 25)


def submitted_with_id_card(world, content: bytes, name: str, mime: str):
    filing = services.filing_start(actor=world.manager.user, year=YEAR)
    f.add_proofs(filing, kinds=["diploma", "title", "ce", "contract"])
    services.filing_proof_upload(
        actor=world.manager.user,
        filing=filing,
        kind="id_card",
        file=SimpleUploadedFile(name, content, content_type=mime),
    )
    services.filing_submit(actor=world.manager.user, filing=filing)
    return filing


@pytest.fixture
def png_filing(filing_world):
    return submitted_with_id_card(filing_world, id_card_png(), "身份证.png", "image/png")


def proof_url(filing, kind="id_card"):
    proof = FilingProof.objects.get(filing=filing, kind=kind, replaced_at__isnull=True)
    return reverse("registry:proof_file", args=[proof.pk]), proof


def stored_bytes(proof) -> bytes:
    with proof.file.open("rb") as handle:
        return handle.read()


def test_the_firm_reviewer_sees_the_id_card_watermarked(png_filing, filing_world, as_user):
    url, proof = proof_url(png_filing)
    response = as_user(filing_world.reviewer).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    body = response.content
    assert body != stored_bytes(proof)
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (856, 540)
        assert reddish(image) > 2000
    # Served as inertly as the original would be.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AF%81.png" in response["Content-Disposition"]


def test_each_viewer_gets_a_copy_naming_him(png_filing, filing_world, as_user):
    second = f.FirmMembershipFactory(firm=filing_world.firm, role="reviewer").user
    url, _proof = proof_url(png_filing)
    first_copy = as_user(filing_world.reviewer).get(url).content
    second_copy = as_user(second).get(url).content
    assert first_copy != second_copy


def test_the_manager_himself_also_gets_a_watermarked_copy(png_filing, filing_world, as_user):
    url, proof = proof_url(png_filing)
    body = as_user(filing_world.manager.user).get(url).content
    assert body != stored_bytes(proof)


def test_bureau_staff_get_the_original(png_filing, filing_world, as_user, mfa):
    url, proof = proof_url(png_filing)
    for official in (filing_world.bureau, filing_world.prefecture_bureau):
        response = as_user(mfa(official)).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == stored_bytes(proof)


def test_other_proofs_are_served_as_they_are(png_filing, filing_world, as_user):
    url, proof = proof_url(png_filing, kind="diploma")
    response = as_user(filing_world.reviewer).get(url)
    assert b"".join(response.streaming_content) == stored_bytes(proof)


def test_an_id_card_pdf_is_stamped_for_the_firm_and_still_a_safe_pdf(filing_world, as_user):
    filing = submitted_with_id_card(filing_world, id_card_pdf(), "身份证.pdf", "application/pdf")
    url, proof = proof_url(filing)
    response = as_user(filing_world.reviewer).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body != stored_bytes(proof)
    assert validate_upload(SimpleUploadedFile("x.pdf", body)) == "application/pdf"
    with pikepdf.open(io.BytesIO(body)) as pdf:
        (page,) = pdf.pages
        images = [x for x in page.obj.Resources.XObject.values() if x.Subtype == "/Image"]
        assert images and all("/SMask" in image for image in images)  # semi-transparent


def test_an_id_card_that_cannot_be_watermarked_is_never_served_as_it_is(
    png_filing, filing_world, as_user, mfa
):
    url, proof = proof_url(png_filing)
    # A file damaged on disk after its upload.
    proof.file.storage.delete(proof.file.name)
    proof.file.storage.save(proof.file.name, ContentFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 64))
    client = as_user(filing_world.reviewer)
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 422
    assert b"\x89PNG" not in response.content
    assert response["Content-Type"].startswith("text/plain")


def test_the_purpose_drawn_on_the_copy_is_the_chinese_one_by_default():
    from django.utils import translation

    from registry.views import WATERMARK_PURPOSE

    with translation.override("zh-hans"):
        assert str(WATERMARK_PURPOSE) == "仅供年度登记备案审核使用"
