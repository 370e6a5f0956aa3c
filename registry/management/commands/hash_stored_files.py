"""Hash the proofs and certificates stored before hashes were computed at upload, and flag the
filings that share a document with another manager. Batched and resumable; a second run only
reads the rows still without a hash (`make run` runs it after `migrate`).

    manage.py hash_stored_files [--batch N]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registry.hashing import BATCH, hash_stored_files


class Command(BaseCommand):
    help = "Hash stored proofs and certificates that have no content hash yet (batched)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=BATCH, help="Rows per transaction.")

    def handle(self, *args, **options):
        done = hash_stored_files(batch=max(1, options["batch"]))
        self.stdout.write(
            f"Hashed {done['proofs']} proof(s) and {done['certificates']} certificate(s); "
            f"files missing from the storage: {done['proofs_missing']} proof(s), "
            f"{done['certificates_missing']} certificate(s); "
            f"filings flagged for a shared document: {done['filings_flagged']}"
        )
