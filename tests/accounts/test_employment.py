import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts import services
from accounts.models import Employment
from core.errors import DomainError
from tests import factories as f


@pytest.fixture
def free_manager(world):
    """A registered manager with no firm yet."""
    return f.ManagerProfileFactory(real_name="龙海燕")


def test_manager_requests_to_join_and_firm_confirms(world, free_manager, as_user):
    client = as_user(free_manager.user)
    response = client.post(
        reverse("accounts:manager_employment"), {"credit_code": world.firm.credit_code.lower()}
    )
    assert response.status_code == 302
    emp = Employment.objects.get(manager=free_manager)
    assert emp.status == "requested"
    # The manager cannot confirm his own request.
    as_user(free_manager.user).post(reverse("accounts:employment_action", args=[emp.pk, "confirm"]))
    emp.refresh_from_db()
    assert emp.status == "requested"
    # The firm confirms; the manager now belongs to the firm's jurisdiction.
    as_user(world.reviewer).post(reverse("accounts:employment_action", args=[emp.pk, "confirm"]))
    emp.refresh_from_db()
    free_manager.refresh_from_db()
    assert emp.status == "active"
    assert emp.decided_by == world.reviewer
    assert free_manager.jurisdiction == world.county


def test_firm_adds_manager_by_id_number_and_manager_confirms(world, free_manager, as_user):
    as_user(world.reviewer).post(
        reverse("accounts:firm_employment"),
        {
            "real_name": free_manager.real_name,
            "id_number": free_manager.id_number,
            "position": "项目经理",
        },
    )
    emp = Employment.objects.get(manager=free_manager)
    assert emp.status == "offered"
    as_user(free_manager.user).post(reverse("accounts:employment_action", args=[emp.pk, "confirm"]))
    emp.refresh_from_db()
    assert emp.status == "active"


def test_unknown_credit_code_gets_a_clear_message(world, free_manager, as_user):
    client = as_user(free_manager.user)
    client.post(reverse("set_language"), {"language": "en"})
    other = f.make_credit_code()
    response = client.post(reverse("accounts:manager_employment"), {"credit_code": other})
    assert response.status_code == 200
    assert "No firm with this unified social credit code" in response.content.decode()
    assert not Employment.objects.filter(manager=free_manager).exists()


def test_invalid_credit_code_is_rejected_by_the_form(world, free_manager, as_user):
    response = as_user(free_manager.user).post(
        reverse("accounts:manager_employment"), {"credit_code": world.firm.credit_code[:-1] + "0"}
    )
    assert response.status_code == 200
    assert not Employment.objects.filter(manager=free_manager).exists()


def test_a_manager_cannot_have_two_current_firms(world):
    # The database refuses it, whatever the code above it does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Employment.objects.create(
            manager=world.manager,
            firm=world.other_firm,
            status="active",
            requested_by=world.reviewer,
        )


def test_confirming_a_second_firm_tells_the_manager_to_end_the_first(world, as_user):
    emp = services.employment_request(
        actor=world.manager.user, credit_code=world.other_firm.credit_code
    )
    with pytest.raises(DomainError) as exc:
        services.employment_confirm(employment=emp, actor=world.other_reviewer)
    assert exc.value.code == "has_current_firm"
    emp.refresh_from_db()
    assert emp.status == "requested"


def test_ending_employment_keeps_history(world, as_user):
    emp = Employment.objects.get(manager=world.manager, status="active")
    as_user(world.reviewer).post(
        reverse("accounts:employment_action", args=[emp.pk, "end"]), {"end_date": "2025-12-31"}
    )
    emp.refresh_from_db()
    assert emp.status == "ended"
    assert emp.end_date == dt.date(2025, 12, 31)
    assert emp.ended_by == world.reviewer
    # The firm no longer sees the manager.
    assert (
        as_user(world.reviewer)
        .get(reverse("overview:manager_detail", args=[world.manager.pk]))
        .status_code
        == 404
    )
    # The manager still sees the history.
    html = as_user(world.manager.user).get(reverse("accounts:manager_employment")).content.decode()
    assert world.firm.name in html


def test_end_date_before_start_is_refused(world, as_user):
    emp = Employment.objects.get(manager=world.manager, status="active")
    as_user(world.reviewer).post(
        reverse("accounts:employment_action", args=[emp.pk, "end"]), {"end_date": "2020-01-01"}
    )
    emp.refresh_from_db()
    assert emp.status == "active"


def test_confirming_twice_is_harmless(world, free_manager):
    emp = services.employment_request(actor=free_manager.user, credit_code=world.firm.credit_code)
    services.employment_confirm(employment=emp, actor=world.reviewer)
    again = services.employment_confirm(employment=emp, actor=world.reviewer)
    assert again.status == "active"
    assert Employment.objects.filter(manager=free_manager, status="active").count() == 1


def test_requesting_twice_creates_one_request(world, free_manager):
    a = services.employment_request(actor=free_manager.user, credit_code=world.firm.credit_code)
    b = services.employment_request(actor=free_manager.user, credit_code=world.firm.credit_code)
    assert a.pk == b.pk


def test_other_firm_cannot_act_on_a_request(world, free_manager, as_user):
    emp = services.employment_request(actor=free_manager.user, credit_code=world.firm.credit_code)
    response = as_user(world.other_reviewer).post(
        reverse("accounts:employment_action", args=[emp.pk, "confirm"])
    )
    assert response.status_code == 404
    emp.refresh_from_db()
    assert emp.status == "requested"
