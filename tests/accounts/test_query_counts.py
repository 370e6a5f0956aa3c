"""Pages stay fast as data grows: the number of queries does not depend on the number of rows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employment, ManagerProfile, User
from accounts.services import id_number_hash
from tests import factories as f


def add_managers(firm, count, prefix):
    users = User.objects.bulk_create(
        [User(email=f"{prefix}-{i}@example.cn", password="!") for i in range(count)]
    )
    profiles = []
    for i, user in enumerate(users):
        number = f.make_id_number()
        profiles.append(
            ManagerProfile(
                user=user,
                real_name=f"{prefix}{i}",
                id_number=number,
                id_number_hash=id_number_hash(number),
                phone="13900000000",
                education="bachelor",
                registration_number=f"{prefix}{i:08d}",
                completed_at=timezone.now(),
                jurisdiction=firm.jurisdiction,
            )
        )
    ManagerProfile.objects.bulk_create(profiles)
    Employment.objects.bulk_create(
        [Employment(manager=p, firm=firm, status="active", requested_by=p.user) for p in profiles]
    )


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_firm_manager_list_with_2000_managers_is_constant_in_queries(
    world, as_user, django_assert_max_num_queries
):
    client = as_user(world.reviewer)
    url = reverse("accounts:firm_managers")
    add_managers(world.firm, 20, "SM")
    few = queries_for(client, url)

    add_managers(world.firm, 2000 - 21, "BG")
    add_managers(world.other_firm, 50, "OT")  # another firm's managers are not counted
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.context["page"].paginator.count == 2000
    with django_assert_max_num_queries(few):
        client.get(url + "?page=40")
    with django_assert_max_num_queries(few):
        client.get(url + "?q=BG1")


def test_bureau_admin_manager_list_is_constant_in_queries(
    world, as_user, mfa, django_assert_max_num_queries
):
    client = as_user(mfa(world.prefecture_bureau))
    url = reverse("admin:accounts_managerprofile_changelist")
    add_managers(world.firm, 10, "SM")
    few = queries_for(client, url)
    add_managers(world.firm, 500, "BG")
    add_managers(world.other_firm, 500, "OT")
    with django_assert_max_num_queries(few):
        client.get(url)
