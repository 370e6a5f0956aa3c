"""The filing pages as each role uses them."""

import datetime as dt
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pikepdf
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.pages import images_to_pdf
from registry import services
from registry.models import AnnualFiling, FilingProof
from tests import factories as f
from tests.core.test_pages import jpeg

from .conftest import YEAR


def my_filing(client, year=YEAR):
    return client.get(reverse("registry:my_filing") + f"?year={year}")


def test_manager_starts_and_sees_the_checklist(filing_world, as_user):
    client = as_user(filing_world.manager.user)
    assert "start-filing" in my_filing(client).content.decode()
    client.post(reverse("registry:filing_start"), {"year": YEAR})
    html = my_filing(client).content.decode()
    assert html.count("bi-circle text-danger") == 5
    assert "submit-problems" in html


def test_before_the_window_the_page_offers_to_prepare_the_filing(world, as_user):
    with time_machine.travel(dt.datetime(2030, 10, 2, 12, tzinfo=ZoneInfo("Asia/Shanghai"))):
        client = as_user(world.manager.user)  # logged in then: a session does not last years
        html = my_filing(client, 2030).content.decode()
        assert "start-filing" in html and "prepare-early" in html
        response = client.post(reverse("registry:filing_start"), {"year": 2030})
        assert response.status_code == 302
        html = my_filing(client, 2030).content.decode()
    assert AnnualFiling.objects.filter(manager=world.manager, year=2030).exists()
    # Submitting waits for the window: the page says so and the button is off.
    assert "submit-problems" in html and "2031" in html


def test_manager_uploads_a_phone_photo_as_a_proof(draft, filing_world, as_user):
    client = as_user(filing_world.manager.user)
    response = client.post(
        reverse("registry:proof_upload", args=[draft.pk]),
        {"kind": "id_card", "file": f.upload("IMG_2041.png")},
    )
    assert response.status_code == 302
    assert FilingProof.objects.get(
        filing=draft, kind="id_card", replaced_at=None
    ).original_name == ("IMG_2041.png")


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"MZ\x90\x00" + b"\x00" * 600, "Only PDF, JPEG or PNG"),
        (b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024), "largest allowed is 10"),
    ],
    ids=["executable", "too-large"],
)
def test_a_bad_upload_says_why_and_changes_nothing(draft, filing_world, as_user, content, expected):
    client = as_user(filing_world.manager.user)
    client.cookies["django_language"] = "en"
    before = list(FilingProof.objects.filter(filing=draft).values_list("pk", "replaced_at"))
    response = client.post(
        reverse("registry:proof_upload", args=[draft.pk]),
        {"kind": "contract", "file": SimpleUploadedFile("合同.pdf", content, "application/pdf")},
        follow=True,
    )
    assert expected in response.content.decode()
    assert list(FilingProof.objects.filter(filing=draft).values_list("pk", "replaced_at")) == before


def test_submit_through_the_page_and_withdraw(draft, filing_world, as_user):
    client = as_user(filing_world.manager.user)
    client.post(reverse("registry:filing_submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == AnnualFiling.Status.AWAITING_FIRM
    assert "withdraw-filing" in my_filing(client).content.decode()
    client.post(reverse("registry:filing_withdraw", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == AnnualFiling.Status.DRAFT


def test_a_returned_filing_shows_the_reason_on_top_and_is_ready_to_fix(
    submitted, filing_world, as_user
):
    services.filing_firm_return(actor=filing_world.reviewer, filing=submitted, reason="合同已过期")
    html = my_filing(as_user(filing_world.manager.user)).content.decode()
    assert html.index("return-reason") < html.index("checklist-id_card")
    assert "合同已过期" in html
    assert "upload-contract" in html and "submit-filing" in html


def test_firm_reviewer_returns_without_reason_is_refused(submitted, filing_world, as_user):
    client = as_user(filing_world.reviewer)
    client.post(reverse("registry:firm_filing_return", args=[submitted.pk]), {"reason": ""})
    submitted.refresh_from_db()
    assert submitted.status == AnnualFiling.Status.AWAITING_FIRM


def test_firm_detail_shows_snapshot_and_embeds_the_proofs(submitted, filing_world, as_user):
    html = (
        as_user(filing_world.reviewer)
        .get(reverse("registry:firm_filing_detail", args=[submitted.pk]))
        .content.decode()
    )
    assert filing_world.manager.masked_id_number in html
    assert filing_world.manager.id_number not in html
    assert html.count('<img src="/proofs/') == 5
    assert "firm-approve" in html


def test_proofs_can_be_framed_by_our_pages_only(submitted, filing_world, as_user):
    proof = FilingProof.objects.filter(filing=submitted).first()
    response = as_user(filing_world.reviewer).get(reverse("registry:proof_file", args=[proof.pk]))
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "sandbox" in response["Content-Security-Policy"]  # an image: nothing may run


def test_bulk_approval_reports_each_filing(filing_world, as_user):
    w = filing_world
    filings = []
    for i in range(3):
        manager = f.ManagerProfileFactory(real_name=f"批量{i}")
        f.employ(manager, w.firm)
        filing = services.filing_start(actor=manager.user, year=YEAR)
        f.add_proofs(filing)
        filings.append(services.filing_submit(actor=manager.user, filing=filing))
    services.filing_firm_approve(actor=w.reviewer, filing=filings[0])  # a colleague was quicker
    client = as_user(w.reviewer)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("registry:firm_bulk_approve"), {"filing": [x.pk for x in filings]}
    )
    html = response.content.decode()
    assert "2 filings approved and forwarded" in html
    assert "1 filing was not changed" in html
    assert html.count("bi-check-circle-fill") == 2
    assert AnnualFiling.objects.filter(status="awaiting_bureau").count() == 3


def test_bulk_approval_ignores_filings_of_other_firms(filing_world, as_user):
    w = filing_world
    filing = services.filing_start(actor=w.other_manager.user, year=YEAR)
    f.add_proofs(filing)
    services.filing_submit(actor=w.other_manager.user, filing=filing)
    as_user(w.reviewer).post(reverse("registry:firm_bulk_approve"), {"filing": [filing.pk]})
    filing.refresh_from_db()
    assert filing.status == AnnualFiling.Status.AWAITING_FIRM


def test_the_certificate_carries_the_code_and_the_verify_page_confirms_it(
    approved, filing_world, as_user
):
    response = as_user(filing_world.manager.user).get(
        reverse("registry:filing_certificate", args=[approved.pk])
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        code = approved.certificate_code
        assert f"{code[:4]}-{code[4:8]}-{code[8:]}" in text
        assert (
            "年度物业管理员执业信息登记备案" in text
            and filing_world.manager.masked_id_number in text
        )
        assert filing_world.manager.id_number not in text
    page = as_user(None).get(reverse("registry:verify", args=[approved.certificate_code.lower()]))
    html = page.content.decode()
    assert page.status_code == 200 and "verify-ok" in html
    assert filing_world.manager.real_name in html
    assert filing_world.manager.id_number not in html and filing_world.manager.phone not in html


def test_an_unknown_code_is_not_genuine(db, as_user):
    page = as_user(None).get(reverse("registry:verify", args=["ABCDEFGHJKMN"]))
    assert page.status_code == 404 and "verify-unknown" in page.content.decode()


def test_the_verify_form_redirects_to_the_code(db, as_user):
    response = as_user(None).get(reverse("registry:verify_form"), {"code": "abcd-efgh-jkmn"})
    assert response["Location"] == reverse("registry:verify", args=["ABCDEFGHJKMN"])


def test_no_certificate_before_approval(forwarded, filing_world, as_user):
    response = as_user(filing_world.manager.user).get(
        reverse("registry:filing_certificate", args=[forwarded.pk])
    )
    assert response.status_code == 404


def test_bureau_approves_and_returns_in_the_admin(forwarded, filing_world, as_user, mfa):
    client = as_user(mfa(filing_world.bureau))
    html = client.get(reverse("admin:registry_annualfiling_change", args=[forwarded.pk]))
    assert "bureau-approve" in html.content.decode()
    form = client.get(reverse("admin:registry_annualfiling_return", args=[forwarded.pk]))
    assert form.status_code == 200
    client.post(reverse("admin:registry_annualfiling_return", args=[forwarded.pk]), {"reason": ""})
    forwarded.refresh_from_db()
    assert forwarded.status == AnnualFiling.Status.AWAITING_BUREAU
    client.post(reverse("admin:registry_annualfiling_approve", args=[forwarded.pk]))
    forwarded.refresh_from_db()
    assert forwarded.status == AnnualFiling.Status.APPROVED
    # a second click: nothing changes, the official is told
    response = client.post(
        reverse("admin:registry_annualfiling_approve", args=[forwarded.pk]), follow=True
    )
    assert forwarded.events.filter(action="bureau_approve").count() == 1
    assert response.status_code == 200


def test_bureau_bulk_actions_report_each_filing(forwarded, submitted, filing_world, as_user, mfa):
    w = filing_world
    other = f.ManagerProfileFactory(real_name="第二人")
    f.employ(other, w.firm)
    second = services.filing_start(actor=other.user, year=YEAR)
    f.add_proofs(second)
    services.filing_submit(actor=other.user, filing=second)  # still at the firm
    client = as_user(mfa(w.bureau))
    client.cookies["django_language"] = "en"
    url = reverse("admin:registry_annualfiling_changelist")
    response = client.post(
        url,
        {"action": "approve", "_selected_action": [forwarded.pk, second.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 filing approved." in html
    assert "第二人" in html
    second.refresh_from_db()
    assert second.status == AnnualFiling.Status.AWAITING_FIRM
    # return with a reason, through the intermediate page
    page = client.post(url, {"action": "return_filings", "_selected_action": [forwarded.pk]})
    assert "confirm-return" in page.content.decode()
    client.post(
        url,
        {
            "action": "return_filings",
            "_selected_action": [forwarded.pk],
            "apply": "1",
            "reason": "x",
        },
    )
    forwarded.refresh_from_db()
    assert forwarded.status == AnnualFiling.Status.APPROVED  # approved already: not returned


def test_posting_the_admin_change_form_changes_nothing(forwarded, filing_world, as_user, mfa):
    client = as_user(mfa(filing_world.bureau))
    url = reverse("admin:registry_annualfiling_change", args=[forwarded.pk])
    history = forwarded.history.count()
    assert client.post(url, {"status": "approved"}).status_code == 302
    forwarded.refresh_from_db()
    assert forwarded.status == AnnualFiling.Status.AWAITING_BUREAU
    assert forwarded.history.count() == history


def test_two_phone_photos_are_stored_as_one_pdf_proof(draft, filing_world, as_user):
    client = as_user(filing_world.manager.user)
    response = client.post(
        reverse("registry:proof_upload", args=[draft.pk]),
        {
            "kind": "id_card",
            "file": [
                jpeg("IMG_0001.jpg", (300, 200), orientation=6),
                jpeg("IMG_0002.jpg", (300, 200), orientation=6),
            ],
        },
    )
    assert response.status_code == 302
    proof = FilingProof.objects.get(filing=draft, kind="id_card", replaced_at=None)
    assert (proof.mime, proof.original_name) == ("application/pdf", "IMG_0001.pdf")
    assert proof.file.name.endswith(".pdf")
    with proof.file.open("rb") as stored, pikepdf.open(stored) as pdf:
        assert len(pdf.pages) == 2
    # The earlier single-file proof stays in the history.
    assert FilingProof.objects.filter(filing=draft, kind="id_card").count() == 2


def test_a_pdf_with_a_photo_is_refused_and_nothing_changes(draft, filing_world, as_user):
    client = as_user(filing_world.manager.user)
    before = FilingProof.objects.get(filing=draft, kind="contract", replaced_at=None)
    pdf = images_to_pdf([jpeg("scan.jpg", (50, 50))]).read()
    response = client.post(
        reverse("registry:proof_upload", args=[draft.pk]),
        {"kind": "contract", "file": [jpeg("p1.jpg", (50, 50)), f.upload("scan.pdf", pdf)]},
        follow=True,
    )
    assert response.status_code == 200
    assert FilingProof.objects.get(filing=draft, kind="contract", replaced_at=None) == before


def test_the_upload_control_takes_several_photos_or_a_pdf(draft, filing_world, as_user):
    html = my_filing(as_user(filing_world.manager.user)).content.decode()
    assert 'accept="image/*,application/pdf" multiple' in html
