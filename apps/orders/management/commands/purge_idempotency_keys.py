"""Delete Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_HOURS (run it from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.orders.idempotency import idempotency_purge


class Command(BaseCommand):
    help = "Delete checkout Idempotency-Keys older than the TTL; a purged key can be reused."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, help="Override IDEMPOTENCY_KEY_TTL_HOURS.")

    def handle(self, *args, hours=None, **options):
        if hours is not None and hours < 0:
            raise CommandError("--hours must not be negative")
        deleted = idempotency_purge(None if hours is None else timedelta(hours=hours))
        self.stdout.write(f"Deleted {deleted} idempotency keys.")
