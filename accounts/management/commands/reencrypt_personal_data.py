"""Re-encrypt every ID number with the newest key and recompute its blind index.

Run after putting a new salt first in FIELD_ENCRYPTION_SALTS (or a new SECRET_KEY with the old
one in SECRET_KEY_FALLBACKS), or after changing ID_HASH_KEY. Works in batches, each in its own
transaction; safe to run again.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import ManagerProfile
from accounts.services import id_number_hash


class Command(BaseCommand):
    help = "Re-encrypt ID numbers with the current key and recompute their keyed hashes."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size=1000, **options):
        done = 0
        last = 0
        while True:
            with transaction.atomic():
                batch = list(
                    ManagerProfile.objects.select_for_update()
                    .filter(pk__gt=last)
                    .order_by("pk")[:batch_size]
                )
                if not batch:
                    break
                for profile in batch:
                    # Reading decrypts with any known key; saving encrypts with the first one.
                    profile.id_number_hash = id_number_hash(profile.id_number)
                ManagerProfile.objects.bulk_update(batch, ["id_number", "id_number_hash"])
            last = batch[-1].pk
            done += len(batch)
        self.stdout.write(f"Re-encrypted {done} ID numbers.")
