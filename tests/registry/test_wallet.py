"""The document wallet: last year's ID card, diploma and title certificate offered on this
year's filing, used again with one tap as a new proof pointing to the same stored file; only
the proofs of an approved filing are offered (a returned one's may be what was to be fixed)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from registry import selectors, services
from registry.models import AnnualFiling, FilingProof
from tests import factories as f

LAST, THIS = 2024, 2025


def _through(world, year, *, approve=True):
    f.open_window(world.province, year)
    filing = services.filing_start(actor=world.manager.user, year=year)
    f.add_proofs(filing)
    services.filing_submit(actor=world.manager.user, filing=filing)
    if approve:
        services.filing_firm_approve(actor=world.reviewer, filing=filing)
        services.filing_bureau_approve(actor=world.bureau, filing=filing)
    else:
        services.filing_firm_return(actor=world.reviewer, filing=filing, reason="身份证照片不清晰")
    filing.refresh_from_db()
    return filing


@pytest.fixture
def approved_last_year(world):
    return _through(world, LAST)


@pytest.fixture
def this_year(world, approved_last_year):
    f.open_window(world.province, THIS)
    return services.filing_start(actor=world.manager.user, year=THIS)


def _current(filing, kind):
    return FilingProof.objects.get(filing=filing, kind=kind, replaced_at=None)


def test_last_years_id_card_diploma_and_title_are_offered(this_year):
    offered = selectors.reusable_proofs(filing=this_year)
    assert set(offered) == {"id_card", "diploma", "title"}  # not the CE proof, not the contract
    assert all(p.filing.year == LAST for p in offered.values())


def test_reusing_makes_a_new_proof_pointing_to_the_same_file(world, approved_last_year, this_year):
    old = _current(approved_last_year, "id_card")

    proof = services.filing_proof_reuse(actor=world.manager.user, filing=this_year, kind="id_card")

    assert proof.filing == this_year and proof.replaced_at is None
    assert proof.file.name == old.file.name
    assert (proof.original_name, proof.mime, proof.size) == (old.original_name, old.mime, old.size)
    assert proof.uploaded_by == world.manager.user
    # Last year's proof is untouched; the new one is in the history with why.
    old.refresh_from_db()
    assert old.replaced_at is None and old.filing == approved_last_year
    assert proof.history.get().history_change_reason == f"reused from the {LAST} filing"
    assert "id_card" not in selectors.reusable_proofs(filing=this_year)


def test_a_second_tap_adds_nothing(world, this_year):
    first = services.filing_proof_reuse(actor=world.manager.user, filing=this_year, kind="title")
    again = services.filing_proof_reuse(actor=world.manager.user, filing=this_year, kind="title")
    assert again.pk == first.pk
    assert FilingProof.objects.filter(filing=this_year, kind="title").count() == 1


def test_reusing_replaces_this_years_upload_which_stays_in_the_history(world, this_year):
    (uploaded,) = f.add_proofs(this_year, kinds=["diploma"])
    proof = services.filing_proof_reuse(actor=world.manager.user, filing=this_year, kind="diploma")
    uploaded.refresh_from_db()
    assert uploaded.replaced_at is not None
    assert _current(this_year, "diploma") == proof


def test_a_reused_file_completes_the_filing_and_is_served(
    world, approved_last_year, this_year, as_user
):
    for kind in ("id_card", "diploma", "title"):
        services.filing_proof_reuse(actor=world.manager.user, filing=this_year, kind=kind)
    f.add_proofs(this_year, kinds=["ce", "contract"])
    assert services.filing_submission_errors(filing=this_year, today=_today()) == []
    proof = _current(this_year, "diploma")
    response = as_user(world.manager.user).get(reverse("registry:proof_file", args=[proof.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == _current(approved_last_year, "diploma").file.open("rb").read()


def _today():
    return timezone.localdate()


def test_nothing_is_offered_from_a_returned_filing(world):
    _through(world, LAST, approve=False)
    f.open_window(world.province, THIS)
    filing = services.filing_start(actor=world.manager.user, year=THIS)
    assert selectors.reusable_proofs(filing=filing) == {}
    with pytest.raises(DomainError, match="no proof of this kind"):
        services.filing_proof_reuse(actor=world.manager.user, filing=filing, kind="id_card")
    assert not FilingProof.objects.filter(filing=filing).exists()


def test_only_the_manager_reuses_and_only_into_an_editable_filing(world, this_year):
    with pytest.raises((PermissionDenied, DomainError)):
        services.filing_proof_reuse(actor=world.reviewer, filing=this_year, kind="id_card")
    f.add_proofs(this_year, kinds=["id_card", "diploma", "title", "ce", "contract"])
    services.filing_submit(actor=world.manager.user, filing=this_year)
    with pytest.raises(DomainError):
        services.filing_proof_reuse(actor=world.manager.user, filing=this_year, kind="id_card")


def test_the_filing_page_offers_one_tap_per_kind_and_it_works(world, this_year, as_user):
    client = as_user(world.manager.user)
    page = lambda: client.get(reverse("registry:my_filing") + f"?year={THIS}").content.decode()  # noqa: E731
    html = page()
    for kind in ("id_card", "diploma", "title"):
        assert f'data-testid="reuse-{kind}"' in html
    assert 'data-testid="reuse-ce"' not in html and 'data-testid="reuse-contract"' not in html

    response = client.post(
        reverse("registry:proof_reuse", args=[this_year.pk]), {"kind": "id_card"}
    )
    assert response.status_code == 302
    assert _current(this_year, "id_card").file.name.startswith("proofs/")
    assert 'data-testid="reuse-id_card"' not in page()
    # A kind that is not in the wallet: 404, nothing changes.
    bad = client.post(reverse("registry:proof_reuse", args=[this_year.pk]), {"kind": "contract"})
    assert bad.status_code == 404
    assert not FilingProof.objects.filter(filing=this_year, kind="contract").exists()
    assert AnnualFiling.objects.get(pk=this_year.pk).status == AnnualFiling.Status.DRAFT
