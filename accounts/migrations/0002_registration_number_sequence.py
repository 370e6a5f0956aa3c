from django.db import migrations


class Migration(migrations.Migration):
    """Registration numbers come from a sequence: never handed out twice, even after a rollback."""

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS accounts_registration_number_seq START 1",
            "DROP SEQUENCE IF EXISTS accounts_registration_number_seq",
        )
    ]
