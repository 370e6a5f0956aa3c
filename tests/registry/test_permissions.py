"""Who may see and move a filing: the manager his own, the firm the filings it reviews of managers
it still employs, bureau staff those of their jurisdiction and below. A refused request reveals
nothing (404 outside reach) and changes nothing (same status, no new event, no new history)."""

from contextlib import contextmanager

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Employment, FirmMembership
from core.errors import DomainError
from registry import services
from registry.models import AnnualFiling, FilingProof, ReviewEvent
from tests import factories as f

from .conftest import YEAR

Status = AnnualFiling.Status


# --- helpers -----------------------------------------------------------------------------------


def _fingerprint(filing):
    row = AnnualFiling.objects.get(pk=filing.pk)
    return {
        "status": row.status,
        "round": row.round,
        "firm": row.firm_id,
        "jurisdiction": row.jurisdiction_id,
        "certificate_code": row.certificate_code,
        "updated_at": row.updated_at,
        "events": ReviewEvent.objects.filter(filing=filing).count(),
        "history": AnnualFiling.history.filter(id=filing.pk).count(),
        "proofs": list(
            FilingProof.objects.filter(filing=filing)
            .order_by("pk")
            .values_list("pk", "replaced_at")
        ),
    }


@contextmanager
def unchanged(filing):
    """The block may be refused in any way; the filing must be exactly as before."""
    before = _fingerprint(filing)
    yield
    assert _fingerprint(filing) == before


def _submitted_filing_of(manager):
    filing = services.filing_start(actor=manager.user, year=YEAR)
    f.add_proofs(filing)
    return services.filing_submit(actor=manager.user, filing=filing)


def _admin_result_pks(client, query=""):
    response = client.get(reverse("admin:registry_annualfiling_changelist") + query)
    assert response.status_code == 200
    return {filing.pk for filing in response.context["cl"].result_list}


def _error_messages(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


@pytest.fixture
def staff(filing_world, mfa):
    """Bureau staff who can use the admin (TOTP set up)."""
    for user in (filing_world.bureau, filing_world.other_bureau, filing_world.prefecture_bureau):
        mfa(user)
    return filing_world


# --- the firm ----------------------------------------------------------------------------------


def test_other_firms_reviewer_gets_404_on_the_filing(submitted, filing_world, as_user):
    client = as_user(filing_world.other_reviewer)
    with unchanged(submitted):
        assert (
            client.get(reverse("registry:firm_filing_detail", args=[submitted.pk])).status_code
            == 404
        )
        assert (
            client.post(reverse("registry:firm_filing_approve", args=[submitted.pk])).status_code
            == 404
        )
        response = client.post(
            reverse("registry:firm_filing_return", args=[submitted.pk]), {"reason": "不合格"}
        )
        assert response.status_code == 404


def test_other_firms_reviewer_is_refused_by_the_service(submitted, filing_world):
    with unchanged(submitted):
        with pytest.raises(PermissionDenied):
            services.filing_firm_approve(actor=filing_world.other_reviewer, filing=submitted)
        with pytest.raises(PermissionDenied):
            services.filing_firm_return(
                actor=filing_world.other_reviewer, filing=submitted, reason="不合格"
            )


def test_other_firms_reviewer_does_not_see_the_filing_in_the_queue(
    submitted, filing_world, as_user
):
    response = as_user(filing_world.other_reviewer).get(
        reverse("registry:firm_queue") + "?status=all"
    )
    assert response.status_code == 200
    assert list(response.context["page"]) == []
    assert filing_world.manager.real_name not in response.content.decode()


def test_other_firms_bulk_approval_skips_the_filing(submitted, filing_world, as_user):
    with unchanged(submitted):
        response = as_user(filing_world.other_reviewer).post(
            reverse("registry:firm_bulk_approve"), {"filing": [submitted.pk]}
        )
    # Nothing of the firm's own was selected: back to the queue, nothing approved.
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:firm_queue")


def test_firm_does_not_see_a_draft(draft, filing_world, as_user):
    """The firm is fixed at submission: until then the filing is the manager's alone."""
    client = as_user(filing_world.reviewer)
    with unchanged(draft):
        assert (
            client.get(reverse("registry:firm_filing_detail", args=[draft.pk])).status_code == 404
        )
        assert (
            client.post(reverse("registry:firm_filing_approve", args=[draft.pk])).status_code == 404
        )
    proof = draft.proofs.first()
    assert client.get(reverse("registry:proof_file", args=[proof.pk])).status_code == 404


def test_firm_reviewer_loses_access_when_the_manager_leaves(submitted, filing_world, as_user):
    w = filing_world
    employment = Employment.objects.get(manager=w.manager, status=Employment.Status.ACTIVE)
    account_services.employment_end(employment=employment, actor=w.manager.user)
    proof = submitted.proofs.first()
    client = as_user(w.reviewer)
    with unchanged(submitted):
        assert (
            client.get(reverse("registry:firm_filing_detail", args=[submitted.pk])).status_code
            == 404
        )
        assert client.get(reverse("registry:proof_file", args=[proof.pk])).status_code == 404
        assert (
            client.post(reverse("registry:firm_filing_approve", args=[submitted.pk])).status_code
            == 404
        )
        with pytest.raises(PermissionDenied):
            services.filing_firm_approve(actor=w.reviewer, filing=submitted)
        with pytest.raises(PermissionDenied):
            services.filing_firm_return(actor=w.reviewer, filing=submitted, reason="已离职")
    queue = client.get(reverse("registry:firm_queue") + "?status=all")
    assert list(queue.context["page"]) == []


def test_a_plain_reviewer_of_the_firm_can_approve(submitted, filing_world, as_user):
    reviewer = f.FirmMembershipFactory(
        firm=filing_world.firm, role=FirmMembership.Role.REVIEWER
    ).user
    response = as_user(reviewer).post(reverse("registry:firm_filing_approve", args=[submitted.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:firm_queue")
    submitted.refresh_from_db()
    assert submitted.status == Status.AWAITING_BUREAU
    last = ReviewEvent.objects.filter(filing=submitted).latest("created_at", "pk")
    assert (last.action, last.actor) == (ReviewEvent.Action.FIRM_APPROVE, reviewer)


def test_second_firm_approval_is_refused_and_changes_nothing(forwarded, filing_world, as_user):
    with unchanged(forwarded):
        with pytest.raises(DomainError):
            services.filing_firm_approve(actor=filing_world.reviewer, filing=forwarded)
        response = as_user(filing_world.reviewer).post(
            reverse("registry:firm_filing_approve", args=[forwarded.pk])
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("registry:firm_filing_detail", args=[forwarded.pk])
        assert _error_messages(response)


def test_return_without_a_reason_is_refused(submitted, filing_world, as_user):
    with unchanged(submitted):
        with pytest.raises(DomainError):
            services.filing_firm_return(actor=filing_world.reviewer, filing=submitted, reason=" ")
        response = as_user(filing_world.reviewer).post(
            reverse("registry:firm_filing_return", args=[submitted.pk]), {"reason": ""}
        )
        assert response.status_code == 302
        assert _error_messages(response)


def test_filing_goes_to_the_new_firm_after_a_move(submitted, filing_world, as_user):
    """Returned, the manager moves to another county's firm and submits again: the new firm and
    the new county review it; the old ones no longer reach it."""
    w = filing_world
    services.filing_firm_return(actor=w.reviewer, filing=submitted, reason="请更新劳动合同")
    employment = Employment.objects.get(manager=w.manager, status=Employment.Status.ACTIVE)
    account_services.employment_end(employment=employment, actor=w.manager.user)
    f.employ(w.manager, w.other_firm)
    filing = services.filing_submit(actor=w.manager.user, filing=submitted)
    assert (filing.firm, filing.jurisdiction) == (w.other_firm, w.other_county)

    assert (
        as_user(w.reviewer)
        .get(reverse("registry:firm_filing_detail", args=[filing.pk]))
        .status_code
        == 404
    )
    assert (
        as_user(w.other_reviewer)
        .get(reverse("registry:firm_filing_detail", args=[filing.pk]))
        .status_code
        == 200
    )
    services.filing_firm_approve(actor=w.other_reviewer, filing=filing)
    with unchanged(filing):
        with pytest.raises(PermissionDenied):
            services.filing_bureau_approve(actor=w.bureau, filing=filing)
    services.filing_bureau_approve(actor=w.other_bureau, filing=filing)
    filing.refresh_from_db()
    assert filing.status == Status.APPROVED


# --- the manager -------------------------------------------------------------------------------


def test_manager_cannot_approve_own_filing(submitted, filing_world, as_user):
    w = filing_world
    client = as_user(w.manager.user)
    with unchanged(submitted):
        with pytest.raises(PermissionDenied):
            services.filing_firm_approve(actor=w.manager.user, filing=submitted)
        with pytest.raises(PermissionDenied):
            services.filing_firm_return(actor=w.manager.user, filing=submitted, reason="x")
        assert (
            client.post(reverse("registry:firm_filing_approve", args=[submitted.pk])).status_code
            == 403
        )
        response = client.post(reverse("registry:firm_bulk_approve"), {"filing": [submitted.pk]})
        assert response.status_code == 403
        # Not staff: the admin sends him to its login page.
        response = client.post(reverse("admin:registry_annualfiling_approve", args=[submitted.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_manager_cannot_do_the_bureaus_approval(forwarded, filing_world):
    with unchanged(forwarded):
        with pytest.raises(PermissionDenied):
            services.filing_bureau_approve(actor=filing_world.manager.user, filing=forwarded)
        with pytest.raises(PermissionDenied):
            services.filing_bureau_return(
                actor=filing_world.manager.user, filing=forwarded, reason="x"
            )


def test_manager_cannot_touch_another_managers_filing(submitted, filing_world, as_user):
    w = filing_world
    client = as_user(w.other_manager.user)
    with unchanged(submitted):
        for name in ("filing_withdraw", "filing_submit", "proof_transcript"):
            assert client.post(reverse(f"registry:{name}", args=[submitted.pk])).status_code == 404
        response = client.post(
            reverse("registry:proof_upload", args=[submitted.pk]),
            {"kind": "id_card", "file": f.upload()},
        )
        assert response.status_code == 404
        with pytest.raises(PermissionDenied):
            services.filing_withdraw(actor=w.other_manager.user, filing=submitted)


def test_manager_cannot_change_proofs_once_submitted(submitted, filing_world, as_user):
    client = as_user(filing_world.manager.user)
    with unchanged(submitted):
        response = client.post(
            reverse("registry:proof_upload", args=[submitted.pk]),
            {"kind": "id_card", "file": f.upload()},
        )
        assert response.status_code == 302
        assert _error_messages(response)
        with pytest.raises(DomainError):
            services.filing_proof_upload(
                actor=filing_world.manager.user, filing=submitted, kind="id_card", file=f.upload()
            )


def test_manager_cannot_withdraw_once_forwarded(forwarded, filing_world, as_user):
    with unchanged(forwarded):
        response = as_user(filing_world.manager.user).post(
            reverse("registry:filing_withdraw", args=[forwarded.pk])
        )
        assert response.status_code == 302
        assert _error_messages(response)


def test_certificate_only_once_approved(forwarded, filing_world, as_user):
    url = reverse("registry:filing_certificate", args=[forwarded.pk])
    assert as_user(filing_world.manager.user).get(url).status_code == 404


def test_manager_submits_and_withdraws_through_the_pages(draft, filing_world, as_user):
    client = as_user(filing_world.manager.user)
    response = client.post(reverse("registry:filing_submit", args=[draft.pk]))
    assert response.status_code == 302
    assert _error_messages(response) == []
    draft.refresh_from_db()
    assert draft.status == Status.AWAITING_FIRM
    response = client.post(reverse("registry:filing_withdraw", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_manager_replaces_a_proof_through_the_page(draft, filing_world, as_user):
    old = FilingProof.objects.get(filing=draft, kind="id_card")
    response = as_user(filing_world.manager.user).post(
        reverse("registry:proof_upload", args=[draft.pk]),
        {"kind": "id_card", "file": f.upload("新身份证.png")},
    )
    assert response.status_code == 302
    assert _error_messages(response) == []
    current = FilingProof.objects.get(filing=draft, kind="id_card", replaced_at__isnull=True)
    assert current.pk != old.pk and current.original_name == "新身份证.png"


def test_manager_attaches_the_transcript_through_the_page(draft, filing_world, as_user):
    response = as_user(filing_world.manager.user).post(
        reverse("registry:proof_transcript", args=[draft.pk])
    )
    assert response.status_code == 302
    assert _error_messages(response) == []
    ce = FilingProof.objects.get(filing=draft, kind="ce", replaced_at__isnull=True)
    assert ce.generated and ce.mime == "application/pdf"


def test_firm_returns_through_the_page(submitted, filing_world, as_user):
    response = as_user(filing_world.reviewer).post(
        reverse("registry:firm_filing_return", args=[submitted.pk]), {"reason": "合同照片不清晰"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:firm_queue")
    submitted.refresh_from_db()
    assert (submitted.status, submitted.return_reason) == (Status.RETURNED, "合同照片不清晰")


# --- proofs ------------------------------------------------------------------------------------


def test_proof_of_another_manager_is_404(draft, filing_world, as_user):
    w = filing_world
    proof = _submitted_filing_of(w.other_manager).proofs.get(kind="id_card")
    url = reverse("registry:proof_file", args=[proof.pk])
    for user in (w.other_manager.user, w.other_reviewer, w.other_bureau, w.prefecture_bureau):
        assert as_user(user).get(url).status_code == 200, user
    for user in (w.manager.user, w.reviewer, w.bureau):
        assert as_user(user).get(url).status_code == 404, user
    assert as_user(w.provider_user).get(url).status_code == 403


def test_replaced_proof_stays_private(draft, filing_world, as_user):
    w = filing_world
    services.filing_proof_upload(
        actor=w.manager.user, filing=draft, kind="id_card", file=f.upload()
    )
    old = FilingProof.objects.get(filing=draft, kind="id_card", replaced_at__isnull=False)
    url = reverse("registry:proof_file", args=[old.pk])
    assert as_user(w.manager.user).get(url).status_code == 200
    assert as_user(w.other_manager.user).get(url).status_code == 404
    assert as_user(w.other_bureau).get(url).status_code == 404


# --- the bureau --------------------------------------------------------------------------------


def test_county_bureau_cannot_approve_another_countys_filing(forwarded, staff, as_user):
    w = staff
    client = as_user(w.other_bureau)
    with unchanged(forwarded):
        with pytest.raises(PermissionDenied):
            services.filing_bureau_approve(actor=w.other_bureau, filing=forwarded)
        with pytest.raises(PermissionDenied):
            services.filing_bureau_return(actor=w.other_bureau, filing=forwarded, reason="x")
        for name in ("change", "return"):
            url = reverse(f"admin:registry_annualfiling_{name}", args=[forwarded.pk])
            assert client.get(url).status_code == 404, name
        approve = reverse("admin:registry_annualfiling_approve", args=[forwarded.pk])
        assert client.post(approve).status_code == 404
        response = client.post(
            reverse("admin:registry_annualfiling_return", args=[forwarded.pk]), {"reason": "x"}
        )
        assert response.status_code == 404
        # The list's action only acts on the official's own filings.
        response = client.post(
            reverse("admin:registry_annualfiling_changelist"),
            {"action": "approve", "_selected_action": [forwarded.pk]},
        )
        assert response.status_code == 302


def test_prefecture_bureau_can_approve_a_county_filing(forwarded, staff, as_user):
    w = staff
    response = as_user(w.prefecture_bureau).post(
        reverse("admin:registry_annualfiling_approve", args=[forwarded.pk])
    )
    assert response.status_code == 302
    forwarded.refresh_from_db()
    assert forwarded.status == Status.APPROVED
    assert forwarded.certificate_code and forwarded.approved_at
    last = ReviewEvent.objects.filter(filing=forwarded).latest("created_at", "pk")
    assert (last.action, last.actor) == (ReviewEvent.Action.BUREAU_APPROVE, w.prefecture_bureau)


def test_prefecture_bureau_can_approve_through_the_service(forwarded, filing_world):
    filing = services.filing_bureau_approve(actor=filing_world.prefecture_bureau, filing=forwarded)
    assert filing.status == Status.APPROVED


def test_bureau_cannot_approve_before_the_firm(submitted, staff, as_user):
    with unchanged(submitted):
        with pytest.raises(DomainError):
            services.filing_bureau_approve(actor=staff.bureau, filing=submitted)
        response = as_user(staff.bureau).post(
            reverse("admin:registry_annualfiling_approve", args=[submitted.pk])
        )
        assert response.status_code == 302


def test_bureau_cannot_do_the_firms_approval(submitted, filing_world):
    with unchanged(submitted):
        with pytest.raises(PermissionDenied):
            services.filing_firm_approve(actor=filing_world.bureau, filing=submitted)


def test_firm_reviewer_cannot_do_the_bureaus_approval(forwarded, filing_world, as_user):
    with unchanged(forwarded):
        with pytest.raises(PermissionDenied):
            services.filing_bureau_approve(actor=filing_world.reviewer, filing=forwarded)
        response = as_user(filing_world.reviewer).post(
            reverse("admin:registry_annualfiling_approve", args=[forwarded.pk])
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_approved_filing_cannot_be_approved_or_returned_again(approved, staff):
    with unchanged(approved):
        with pytest.raises(DomainError):
            services.filing_bureau_approve(actor=staff.bureau, filing=approved)
        with pytest.raises(DomainError):
            services.filing_bureau_return(actor=staff.bureau, filing=approved, reason="x")
        with pytest.raises(DomainError):
            services.filing_withdraw(actor=staff.manager.user, filing=approved)


def test_bureau_admin_list_shows_only_its_jurisdiction(submitted, staff, as_user):
    w = staff
    other = _submitted_filing_of(w.other_manager)
    assert _admin_result_pks(as_user(w.bureau)) == {submitted.pk}
    assert _admin_result_pks(as_user(w.other_bureau)) == {other.pk}
    assert _admin_result_pks(as_user(w.prefecture_bureau)) == {submitted.pk, other.pk}
    html = as_user(w.bureau).get(reverse("admin:registry_annualfiling_changelist")).content
    assert w.manager.real_name in html.decode()
    assert w.other_manager.real_name not in html.decode()


def test_bureau_filters_cannot_widen_the_list(submitted, staff, as_user):
    w = staff
    other = _submitted_filing_of(w.other_manager)
    client = as_user(w.bureau)
    assert _admin_result_pks(client, f"?county={w.other_county.pk}") == set()
    assert _admin_result_pks(client, f"?firm={w.other_firm.pk}") == set()
    assert _admin_result_pks(client, f"?q={w.other_manager.registration_number}") == set()
    assert other.pk not in _admin_result_pks(client, f"?q={w.other_manager.real_name}")


# --- what is shown -----------------------------------------------------------------------------


def test_verify_page_shows_nothing_private(approved, filing_world, as_user):
    manager = filing_world.manager
    response = as_user(None).get(reverse("registry:verify", args=[approved.certificate_code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="verify-ok"' in html
    assert manager.real_name in html
    assert manager.registration_number in html
    for private in (
        manager.id_number,
        manager.masked_id_number,
        manager.phone,
        manager.user.email,
        manager.id_number_hash,
    ):
        assert private not in html, private


def test_verify_unknown_code_reveals_nothing(approved, filing_world, as_user):
    response = as_user(None).get(reverse("registry:verify", args=["ZZZZZZZZZZZZ"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="verify-unknown"' in html
    assert filing_world.manager.real_name not in html


def test_admin_filing_history_has_no_clear_id_number(approved, staff, as_user):
    """The change page shows the audit trail of the filing, its proofs and the profile."""
    manager = staff.manager
    old_number = manager.id_number
    # The profile changes after approval (new phone, corrected ID number): both are in the
    # profile's history, which the audit trail reads.
    manager.refresh_from_db()
    manager.phone = "13907439999"
    manager.save()
    manager.id_number = f.make_id_number()
    manager.id_number_hash = account_services.id_number_hash(manager.id_number)
    manager.save()

    response = as_user(staff.bureau).get(
        reverse("admin:registry_annualfiling_change", args=[approved.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="audit-trail"' in html
    audit = html[html.index('data-testid="audit-trail"') :]
    assert "13907439999" in audit  # the phone change is listed
    assert manager.id_number not in html
    assert old_number not in html
    assert manager.id_number_hash not in html


def test_firm_detail_shows_only_the_masked_id_number(submitted, filing_world, as_user):
    manager = filing_world.manager
    response = as_user(filing_world.reviewer).get(
        reverse("registry:firm_filing_detail", args=[submitted.pk])
    )
    html = response.content.decode()
    assert manager.masked_id_number in html
    assert manager.id_number not in html


def test_bureau_does_not_see_drafts_or_their_proofs(draft, filing_world, as_user, mfa):
    from registry.models import FilingProof

    client = as_user(mfa(filing_world.bureau))
    url = reverse("admin:registry_annualfiling_change", args=[draft.pk])
    assert client.get(url).status_code in (302, 404)
    assert (
        draft.manager.real_name
        not in client.get(reverse("admin:registry_annualfiling_changelist")).content.decode()
    )
    proof = FilingProof.objects.filter(filing=draft).first()
    assert client.get(reverse("registry:proof_file", args=[proof.pk])).status_code == 404
