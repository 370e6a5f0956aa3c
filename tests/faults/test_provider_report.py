"""A large provider report whose task the broker lost (Redis restarted without saving after
the upload published it): the report stays queued, and the sweep has a real worker import it,
once."""

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories as f
from tests.training.test_imports import csv_bytes, make_course, row_for
from training import reports
from training.models import ProviderReport, StudyRecord
from training.tasks import sweep_provider_reports

from .conftest import wait_until, worker_on

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_report_whose_task_redis_lost_is_imported_by_the_sweep_once(
    world, settings, fault_redis, smtp_sink
):
    settings.PROVIDER_REPORT_BACKGROUND_ROWS = 5
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-801")
    managers = f.bulk_managers(20, "报", jurisdiction=world.county)
    content = csv_bytes([row_for(m, course) for m in managers])

    result = reports.provider_report_upload(
        actor=world.provider_user, content=content, file_name="large.csv"
    )  # published to Redis after the commit; no worker runs yet
    assert result.queued
    fault_redis.stop()  # Redis goes down without saving: the queued task is gone
    fault_redis.start()
    report = ProviderReport.objects.get(pk=result.report.pk)
    assert report.status == ProviderReport.Status.QUEUED

    ProviderReport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=3)
    )
    with worker_on(fault_redis, smtp_sink):
        assert sweep_provider_reports.delay().get(timeout=30) == 1
        assert wait_until(
            lambda: (
                ProviderReport.objects.get(pk=report.pk).status not in ProviderReport.IN_PROGRESS
            ),
            timeout=60,
        )
        assert sweep_provider_reports.delay().get(timeout=30) == 0
    report.refresh_from_db()
    assert (report.status, report.created_count) == ("imported", 20)
    assert StudyRecord.objects.filter(report=report).count() == 20
