"""Prometheus figures of the background work: tasks run, failed and retried, time in the queue.

The worker's processes write them to ``PROMETHEUS_MULTIPROC_DIR`` when it is set: ``serve``
gives the worker the web workers' folder, so ``/metrics`` reports both. A worker on a host of its
own serves them itself on ``CELERY_METRICS_PORT``.
"""

import os
import time

from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

SENT_AT_HEADER = "shopfast_sent_at"

TASKS = Counter(
    "shopfast_tasks_total", "Background tasks finished, by outcome.", ["task", "outcome"]
)
TASK_SECONDS = Histogram("shopfast_task_seconds", "Time a task ran.", ["task"])
TASK_QUEUE_SECONDS = Histogram(
    "shopfast_task_queue_seconds",
    "Time from a task being sent to a worker starting it.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}
_started: dict[str, float] = {}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@signals.before_task_publish.connect
def _stamp(headers=None, **kwargs) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


@signals.task_prerun.connect
def _started_now(task_id=None, task=None, **kwargs) -> None:
    now = time.time()
    # A worker puts message headers on the request; a local apply() keeps them in .headers.
    request = task.request
    sent_at = getattr(request, SENT_AT_HEADER, None) or (request.headers or {}).get(SENT_AT_HEADER)
    if isinstance(sent_at, int | float):
        TASK_QUEUE_SECONDS.labels(_short(task.name)).observe(max(0.0, now - sent_at))
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _finished(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(_short(task.name)).observe(time.monotonic() - started)
    TASKS.labels(_short(task.name), _OUTCOMES.get(state, "failed")).inc()


@signals.worker_ready.connect
def _serve_metrics(**kwargs) -> None:
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # the prefork children's figures too
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    start_http_server(
        int(port), addr=os.environ.get("CELERY_METRICS_HOST", "127.0.0.1"), registry=registry
    )
