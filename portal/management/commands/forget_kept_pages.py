"""Drop every page kept rendered (core.pagecache). `make restore` runs it: a restored database's
data versions start again from the backup's, so a page kept since could match them again."""

from django.core.management.base import BaseCommand

from core.pagecache import forget_all


class Command(BaseCommand):
    help = "Drop every page kept rendered in the cache (after a database restore)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{forget_all()} kept pages dropped")
