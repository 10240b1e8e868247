"""Run the service: prepare the database, seed an empty catalog, then serve with granian beside a
Celery worker with its schedule (``celery -A config worker -B``); a stop stops both."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config import bootstrap
from config.web import granian_command, metrics_dir_fresh, static_options

STOP_GRACE = 20  # seconds granian and the worker get to finish what they do after a stop


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
            "--no-worker",
            action="store_true",
            help="Serve without the Celery worker (pending payments then never expire).",
        )
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
            f"({options['workers']} workers, DEBUG={env['DEBUG']}"
            f"{'' if options['no_worker'] else ', a Celery worker with its schedule'}); "
            "Ctrl+C stops"
        )
        # Children, not exec: this process holds the embedded servers (if any) alive. Each in its
        # own process group, so a stop that hangs can be finished off with its workers.
        processes = {"granian": subprocess.Popen(command, env=env, start_new_session=True)}
        if not options["no_worker"]:
            worker = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B"]
            processes["worker"] = subprocess.Popen(
                [*worker, "--loglevel", "info"], env=env, start_new_session=True
            )
        stop_requested_at: list[float] = []

        def forward(signum, _frame):
            # Forward the first stop only: a repeated signal (e.g. from `uv run` and a pkill both)
            # has been seen to leave granian hanging mid-shutdown.
            if not stop_requested_at:
                stop_requested_at.append(time.monotonic())
                for process in processes.values():
                    if process.poll() is None:
                        # Celery's warm shutdown is SIGTERM; granian stops on either.
                        is_granian = process is processes["granian"]
                        process.send_signal(signum if is_granian else signal.SIGTERM)

        # Stopping this process (Ctrl+C, kill, a supervisor) stops the app server and the worker.
        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        failed = self._supervise(processes, stop_requested_at, forward)
        if failed:
            raise CommandError(f"{failed} exited unexpectedly: everything stopped")

    def _supervise(self, processes, stop_requested_at, forward) -> str | None:
        """Wait for the children; return the name of one that ended without a stop, if any."""
        failed = None
        while any(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
            if not stop_requested_at:
                ended = [name for name, p in processes.items() if p.poll() is not None]
                if ended:  # one died on its own: take the other down with it
                    failed = ended[0]
                    forward(signal.SIGTERM, None)
            elif time.monotonic() - stop_requested_at[0] > STOP_GRACE:
                for name, process in processes.items():
                    if process.poll() is None:
                        self.stderr.write(f"{name} did not stop in {STOP_GRACE}s: killing it")
                        os.killpg(process.pid, signal.SIGKILL)
        return failed
