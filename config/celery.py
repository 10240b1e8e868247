"""The Celery app: ``celery -A config worker -B`` runs the worker with its schedule.

Configured from Django's settings (the ``CELERY_`` ones); tasks live in each app's ``tasks.py``
as thin wrappers over a service, bound to this app by name (``@app.task``: no default app to
fall back to), and are sent with ``transaction.on_commit``. Not imported by ``config/__init__``:
the production launcher imports ``config`` before it has chosen its settings. Its Prometheus
figures (tasks run, failed, retried, their queue wait) come from ``config.celery_metrics``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("shopfast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from config import celery_metrics  # noqa: E402, F401  connects the task signals
