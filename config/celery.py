"""The Celery app: ``celery -A config worker -B`` runs the worker with its schedule.

Configured from Django's settings (the ``CELERY_`` ones); tasks live in each app's ``tasks.py``
as thin wrappers over a service, bound to this app by name (``@app.task``: no default app to
fall back to), and are sent with ``transaction.on_commit``. Not imported by ``config/__init__``:
the production launcher imports ``config`` before it has chosen its settings. Its Prometheus
figures (tasks run, failed, retried, their queue wait) come from ``config.celery_metrics``.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("shopfast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class _Beat(app.subclass_with_self("celery.beat:PersistentScheduler")):
    """Beat's scheduler, making the folder of its file first: .data/ exists only where embedded
    servers ran, and on a fresh clone beside the machine's PostgreSQL and Redis beat died at
    start (nothing expired)."""

    def setup_schedule(self):
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


app.conf.beat_scheduler = _Beat


from config import celery_metrics  # noqa: E402, F401  connects the task signals
