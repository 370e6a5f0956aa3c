"""Notices moved to their own app (notifications). A workflow notice was keyed by its event
(a foreign key); now every notice is keyed by (recipient, year, kind, milestone), the event's
notices with the milestone "event-<id>". The table is renamed and handed over to the
notifications app (whose first migration adopts it without touching the database)."""

from django.db import migrations

KEY_EVENT_NOTICES = """
UPDATE registry_notice AS n
SET milestone = 'event-' || n.event_id, year = f.year
FROM registry_reviewevent AS e JOIN registry_annualfiling AS f ON f.id = e.filing_id
WHERE n.event_id IS NOT NULL AND e.id = n.event_id
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_lock_filed_study_years")]

    operations = [
        migrations.RunSQL(KEY_EVENT_NOTICES, migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="notice", name="one_notice_per_recipient_and_event"),
        migrations.RemoveConstraint(
            model_name="notice", name="one_reminder_per_recipient_year_kind_milestone"
        ),
        migrations.RemoveField(model_name="notice", name="event"),
        migrations.RemoveField(model_name="notice", name="filing"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notice")],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE registry_notice RENAME TO notifications_notice",
                    "ALTER TABLE notifications_notice RENAME TO registry_notice",
                )
            ],
        ),
    ]
