"""Pages stay fast as data grows: the number of queries does not depend on the number of rows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_firm_manager_list_with_2000_managers_is_constant_in_queries(
    world, as_user, django_assert_max_num_queries
):
    client = as_user(world.reviewer)
    url = reverse("overview:firm_managers")
    f.bulk_managers(20, "SM", firm=world.firm)
    few = queries_for(client, url)

    f.bulk_managers(2000 - 21, "BG", firm=world.firm)
    f.bulk_managers(50, "OT", firm=world.other_firm)  # another firm's managers are not counted
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
    f.bulk_managers(10, "SM", firm=world.firm)
    few = queries_for(client, url)
    f.bulk_managers(500, "BG", firm=world.firm)
    f.bulk_managers(500, "OT", firm=world.other_firm)
    with django_assert_max_num_queries(few):
        client.get(url)
