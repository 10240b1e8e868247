"""A real Celery worker with its schedule (``celery -A config worker -B``) on this run's database.

Tests that claim expiry, emails or concurrency with background work run this, never eager mode.
Its queue lives under this run's cache key prefix, its beat state and emails in a temp folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.bootstrap import database_url_of

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60


@dataclass
class Worker:
    process: subprocess.Popen
    folder: Path

    @property
    def log(self) -> str:
        return (self.folder / "worker.log").read_text(errors="replace")

    def emails(self) -> list[str]:
        """The messages the worker sent (the file backend writes one file per connection)."""
        mail = self.folder / "mail"
        return [path.read_text() for path in sorted(mail.iterdir())] if mail.is_dir() else []


def worker_env(folder: Path, **env: str) -> dict[str, str]:
    """The environment of a worker (or a server) on this test run's database and Redis prefix."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_of(connection.settings_dict),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "CACHALOT_KEY_PREFIX": settings.CACHES["cachalot"]["KEY_PREFIX"],
        "CELERY_BEAT_SCHEDULE_FILENAME": str(folder / "beat"),
        "PAYMENT_EXPIRY_INTERVAL_SECONDS": "0.5",
        "ORDER_EMAIL_INTERVAL_SECONDS": "0.5",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder / "mail"),
        **env,
    }


@contextmanager
def worker_running(**env: str) -> Iterator[Worker]:
    """Start the worker and its beat; stop its whole process group on exit."""
    folder = Path(tempfile.mkdtemp(prefix="shopfast-worker-"))
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-B",
        "--concurrency", "2", "--loglevel", "info", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    with (folder / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=worker_env(folder, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, folder)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in worker.log:
            assert process.poll() is None, f"the worker exited:\n{worker.log}"
            assert time.monotonic() < deadline, f"no worker in {READY_TIMEOUT} s:\n{worker.log}"
            time.sleep(0.1)
        yield worker
    finally:
        worker_stop(process)
        shutil.rmtree(folder, ignore_errors=True)  # its log was in the failures' messages


def worker_stop(process: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM to the group), then SIGKILL if it hangs: nothing is left behind."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their parent, if any
    process.wait()
