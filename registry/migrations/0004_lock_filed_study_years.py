"""The filed-year lock moved to training (LockedStudyYear): lock the years of the filings that are
under review or approved today."""

from django.db import migrations

LOCKED = ("awaiting_firm", "awaiting_bureau", "approved")


def lock(apps, schema_editor):
    AnnualFiling = apps.get_model("registry", "AnnualFiling")
    LockedStudyYear = apps.get_model("training", "LockedStudyYear")
    LockedStudyYear.objects.bulk_create(
        [
            LockedStudyYear(manager_id=manager_id, year=year)
            for manager_id, year in AnnualFiling.objects.filter(status__in=LOCKED).values_list(
                "manager_id", "year"
            )
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_reminders_status_conduct"),
        ("training", "0006_locked_study_year"),
    ]

    operations = [migrations.RunPython(lock, migrations.RunPython.noop)]
