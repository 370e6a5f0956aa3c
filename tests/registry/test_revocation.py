"""Revocation (撤销) of an approved filing and cancellation (注销) of a registration, as the public
sees them: /verify/ says so with the date and the certificate no longer verifies; the lookup
says so too. Tried as an anonymous visitor."""

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from accounts import services as accounts_services
from notifications.models import Notice
from registry import services
from registry.models import AnnualFiling, CreditEntry, RegistryStatus, ReviewEvent
from tests import factories as f


@pytest.fixture(autouse=True)
def _chinese():
    """The public reads Chinese here (the package conftest switches to English)."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


def _today() -> str:
    return formats.date_format(timezone.localdate(), "DATE_FORMAT")


def _verify(client, filing):
    return client.get(reverse("registry:verify", args=[filing.certificate_code]))


def test_a_revoked_certificate_no_longer_verifies_and_says_when(approved, filing_world, as_user):
    public = as_user(None)
    assert _verify(public, approved).status_code == 200
    bureau = as_user(filing_world.bureau)
    url = reverse("admin:registry_annualfiling_revoke", args=[approved.pk])
    assert bureau.get(url).status_code == 200  # asks for the reason
    assert as_user(filing_world.other_bureau).post(url, {"reason": "x"}).status_code == 404
    response = bureau.post(url, {"reason": "提交的劳动合同系伪造"})
    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.status == AnnualFiling.Status.REVOKED and approved.revoked_at
    event = approved.events.order_by("-pk").first()
    assert (event.action, event.actor, event.reason) == (
        ReviewEvent.Action.BUREAU_REVOKE,
        filing_world.bureau,
        "提交的劳动合同系伪造",
    )

    response = _verify(public, approved)
    html = response.content.decode()
    assert response.status_code == 410
    assert 'data-testid="verify-void"' in html and 'data-testid="verify-ok"' not in html
    assert "此证明已失效" in html and f"于 {_today()} 撤销" in html
    assert "提交的劳动合同系伪造" not in html  # the reason is for the manager and the firm
    # The lookup by the code says so too.
    lookup = public.post(reverse("registry:lookup"), {"code": approved.certificate_code})
    text = lookup.content.decode()
    assert 'data-testid="lookup-revoked"' in text and _today() in text
    # The manager can no longer download it; he and the firm were told.
    manager = filing_world.manager
    cert = reverse("registry:filing_certificate", args=[approved.pk])
    assert as_user(manager.user).get(cert).status_code == 404
    told = set(
        Notice.objects.filter(kind=Notice.Kind.FILING_REVOKED).values_list("recipient", flat=True)
    )
    assert told == {manager.user_id, filing_world.reviewer.pk}
    # Repeating changes nothing.
    services.filing_revoke(actor=filing_world.bureau, filing=approved, reason="again")
    assert approved.events.filter(action=ReviewEvent.Action.BUREAU_REVOKE).count() == 1


def test_only_an_approved_filing_can_be_revoked_and_a_reason_is_needed(
    forwarded, filing_world, as_user
):
    from core.errors import DomainError

    with pytest.raises(DomainError):
        services.filing_revoke(actor=filing_world.bureau, filing=forwarded, reason="x")
    with pytest.raises(DomainError):
        services.filing_revoke(actor=filing_world.bureau, filing=forwarded, reason=" ")
    forwarded.refresh_from_db()
    assert forwarded.status == AnnualFiling.Status.AWAITING_BUREAU


def test_revoking_decides_the_years_status_again(approved, filing_world):
    manager = filing_world.manager
    RegistryStatus.objects.create(
        manager=manager,
        year=approved.year,
        status="normal",
        reasons=[],
        jurisdiction=filing_world.county,
        closed_on=timezone.localdate(),
        decided_at=timezone.now(),
        updated_at=timezone.now(),
    )
    services.filing_revoke(actor=filing_world.bureau, filing=approved, reason="伪造材料")
    status = RegistryStatus.objects.get(manager=manager, year=approved.year)
    assert status.status == "abnormal" and "revoked" in status.reasons
    entry = CreditEntry.objects.filter(manager=manager).first()
    assert entry.cause == CreditEntry.Cause.REVOKED and entry.actor == filing_world.bureau


def test_a_cancelled_registration_shows_on_verify_and_lookup_with_the_date(
    approved, filing_world, as_user
):
    manager = filing_world.manager
    accounts_services.registration_cancel(
        actor=filing_world.bureau, manager=manager, reason="本人申请注销"
    )
    public = as_user(None)
    response = _verify(public, approved)
    html = response.content.decode()
    assert response.status_code == 410 and 'data-testid="verify-ok"' not in html
    assert f"于 {_today()} 注销" in html
    lookup = public.post(
        reverse("registry:lookup"),
        {"number": manager.registration_number, "name": manager.real_name},
    )
    text = lookup.content.decode()
    assert lookup.status_code == 200
    assert f"已于 {_today()} 注销" in text
    assert "本人申请注销" not in text


def test_a_cancelled_manager_is_neither_judged_nor_can_he_submit(filing_world):
    from registry.status import windows_close

    other = f.ManagerProfileFactory(real_name="已注销者")
    f.employ(other, filing_world.firm)
    accounts_services.registration_cancel(actor=filing_world.bureau, manager=other, reason="x")
    windows_close(day=timezone.localdate().replace(year=timezone.localdate().year + 2))
    assert not RegistryStatus.objects.filter(manager=other).exists()
    assert RegistryStatus.objects.filter(manager=filing_world.manager).exists()
