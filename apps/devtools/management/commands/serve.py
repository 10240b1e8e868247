"""Run the service: prepare the database, seed an empty catalog, then serve with granian."""

import os
import signal
import subprocess
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config import bootstrap
from config.web import granian_command, metrics_dir_fresh, static_options

STOP_GRACE = 20  # seconds granian gets to finish in-flight requests after a stop


class Command(BaseCommand):
    help = "Migrate, seed an empty catalog and serve the API with granian (DEBUG off unless asked)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument(
            "--blocking-threads",
            type=int,
            default=int(os.environ.get("WEB_BLOCKING_THREADS", "2")),
            help="Threads per worker; 2 measured faster than granian's default for this app.",
        )
        parser.add_argument("--seed-products", type=int, default=10_000)
        parser.add_argument("--debug", action="store_true", help="Serve with DEBUG on.")
        parser.add_argument(
            "--prepare-only", action="store_true", help="Migrate and seed, then exit."
        )

    def handle(self, *args, **options):
        if options["workers"] < 1 or options["seed_products"] < 0:
            raise CommandError("--workers must be >= 1 and --seed-products >= 0")
        db_url = os.environ["DATABASE_URL"]
        if bootstrap.ensure_database_exists(db_url):
            self.stdout.write("created the database")
        self.stdout.write(
            f"database: {os.environ.get('SHOPFAST_DATABASE_SOURCE')}; "
            f"redis: {os.environ.get('SHOPFAST_REDIS_SOURCE')}"
        )
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._seed_if_empty(options["seed_products"])
        if options["prepare_only"]:
            return
        self._serve(options)

    def _seed_if_empty(self, products: int) -> None:
        from apps.catalog.models import Product

        if products and not Product.objects.exists():
            self.stdout.write(f"empty catalog: seeding {products} products")
            call_command("seed_catalog", products=products, seed=42)

    def _serve(self, options) -> None:
        env = os.environ.copy()
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
        env["DEBUG"] = "true" if options["debug"] else env.get("DEBUG", "false")
        # One metrics directory for all workers, emptied at start (prometheus_client multiprocess).
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir_fresh(bootstrap.DATA_DIR / "prometheus"))
        command = granian_command(
            options["host"],
            options["port"],
            options["workers"],
            options["blocking_threads"],
            *static_options(settings.STATIC_ROOT),
        )
        self.stdout.write(
            f"serving on http://{options['host']}:{options['port']}/ "
            f"({options['workers']} workers, DEBUG={env['DEBUG']}); Ctrl+C stops"
        )
        # A child, not exec: this process holds the embedded servers (if any) alive. Its own
        # process group, so a stop that hangs can be finished off with its workers.
        process = subprocess.Popen(command, env=env, start_new_session=True)
        stop_requested_at: list[float] = []

        def forward(signum, _frame):
            # Forward the first stop only: a repeated signal (e.g. from `uv run` and a pkill both)
            # has been seen to leave granian hanging mid-shutdown.
            if not stop_requested_at:
                stop_requested_at.append(time.monotonic())
                process.send_signal(signum)

        # Stopping this process (Ctrl+C, kill, a supervisor) stops the app server with it.
        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        while process.poll() is None:
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                if stop_requested_at and time.monotonic() - stop_requested_at[0] > STOP_GRACE:
                    self.stderr.write(f"granian did not stop in {STOP_GRACE}s: killing it")
                    os.killpg(process.pid, signal.SIGKILL)
        if process.returncode not in (0, -signal.SIGINT, -signal.SIGTERM):
            raise CommandError(f"granian exited with {process.returncode}")
