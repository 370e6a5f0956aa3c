"""Content hashes of files stored before hashes were computed at upload, and the risk flag
they feed. Run by `manage.py hash_stored_files` after `migrate` (`make run` does), not inside
a migration: at province scale reading every stored file takes minutes, and a migration would
hold its transaction and its locks for all of them.

Batched and resumable: each batch of rows is read, its files hashed and the batch written in
one UPDATE in its own transaction, so an interrupted run keeps what it did and the next run
starts with the rows that still have no hash. A file missing from the storage is counted and
left without a hash (it is tried again on the next run)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Exists, OuterRef

from core.uploads import content_sha256
from registry.models import AnnualFiling, FilingProof
from training.models import StudyRecord

BATCH = 1000


@dataclass
class Hashed:
    hashed: int = 0
    missing: int = 0


def _hash_rows(
    model: type[models.Model], file_field: str, hash_field: str, *, batch: int
) -> Hashed:
    result = Hashed()
    todo = model.objects.filter(**{hash_field: ""}).exclude(**{file_field: ""}).order_by("pk")
    last = 0
    while True:
        rows = list(todo.filter(pk__gt=last).values_list("pk", file_field)[:batch])
        if not rows:
            return result
        last = rows[-1][0]
        storage = model._meta.get_field(file_field).storage
        by_name: dict[str, str] = {}
        found = []
        for pk, name in rows:
            if name not in by_name:
                try:
                    with storage.open(name, "rb") as handle:
                        by_name[name] = content_sha256(handle)
                except OSError:
                    by_name[name] = ""
            if by_name[name]:
                found.append(model(pk=pk, **{hash_field: by_name[name]}))
            else:
                result.missing += 1
        with transaction.atomic():
            model.objects.bulk_update(found, [hash_field])
        result.hashed += len(found)


def flag_duplicate_documents() -> int:
    """Flag every filing with a current proof whose content is also a current proof of another
    manager (set-based; the flag is cleared only by a new submission, as at upload)."""
    elsewhere = FilingProof.objects.filter(
        content_hash=OuterRef("content_hash"), replaced_at__isnull=True
    ).exclude(filing__manager_id=OuterRef(OuterRef("manager_id")))
    duplicate = (
        FilingProof.objects.filter(filing=OuterRef("pk"), replaced_at__isnull=True)
        .exclude(content_hash="")
        .filter(Exists(elsewhere))
    )
    return (
        AnnualFiling.objects.filter(duplicate_document=False)
        .filter(Exists(duplicate))
        .update(duplicate_document=True)
    )


def hash_stored_files(*, batch: int = BATCH) -> dict[str, int]:
    proofs = _hash_rows(FilingProof, "file", "content_hash", batch=batch)
    certificates = _hash_rows(StudyRecord, "certificate", "certificate_sha256", batch=batch)
    flagged = flag_duplicate_documents() if proofs.hashed else 0
    return {
        "proofs": proofs.hashed,
        "proofs_missing": proofs.missing,
        "certificates": certificates.hashed,
        "certificates_missing": certificates.missing,
        "filings_flagged": flagged,
    }
