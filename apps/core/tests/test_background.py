"""The Celery app: what services wake by name exists, wake-ups coalesce, the schedule, URLs."""

import contextlib
import os
import subprocess
import sys
import time
import uuid

from django.conf import settings
from django.db import transaction

from apps.core import background
from apps.orders.services import ORDER_CONFIRMATIONS_TASK, PAYMENTS_VOID_TASK
from config.celery import app
from config.settings.base import celery_redis_url


def test_every_task_sent_by_name_or_scheduled_is_registered():
    app.loader.import_default_modules()  # what the worker's autodiscovery imports
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {ORDER_CONFIRMATIONS_TASK, PAYMENTS_VOID_TASK} | scheduled <= set(app.tasks)


def test_the_schedule_expires_reservations_well_within_the_contracts_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["reservations-expire"]
    assert entry["schedule"] <= 30


def test_celerys_keys_live_under_the_deployments_prefix():
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["global_keyprefix"] == f"{prefix}:celery:"
    assert options["socket_connect_timeout"] <= 2  # a request never hangs on a broker away
    assert settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["global_keyprefix"].startswith(prefix)


def test_an_embedded_redis_socket_becomes_kombus_socket_url():
    assert (
        celery_redis_url("unix:///data/redis.socket?db=3")
        == "redis+socket:///data/redis.socket?virtual_host=3"
    )
    assert celery_redis_url("unix:///data/redis.socket") == (
        "redis+socket:///data/redis.socket?virtual_host=0"
    )
    assert celery_redis_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_tasks_are_acknowledged_after_they_ran_so_a_dead_worker_loses_none():
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


def sends_with_the_broker_away(count: int, log_seconds: int) -> list[str]:
    """Send ``count`` tasks in a child process whose broker is a port nobody listens on; return
    its log lines about them (a child: the app's producer pools stay this process's own)."""
    code = (
        "import django; django.setup()\n"
        "from apps.core import background\n"
        f"for _ in range({count}): background._send('apps.orders.tasks.payments_void', ([],))\n"
        "print('sent')"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "TASK_SEND_FAILURE_LOG_SECONDS": str(log_seconds),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "sent", done.stderr
    return [line for line in done.stderr.splitlines() if "background tasks not sent" in line]


def test_a_broker_away_never_fails_the_sender_and_is_logged_once_per_interval():
    lines = sends_with_the_broker_away(5, log_seconds=60)

    assert len(lines) == 1 and lines[0].endswith(": 1 lost")


def test_each_line_counts_what_was_lost_since_the_last():
    assert len(sends_with_the_broker_away(3, log_seconds=0)) == 3


def queued(name: str) -> int:
    """How many messages for task ``name`` wait in the broker's default queue (then drop them)."""
    import json

    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    key = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] + "celery"
    mine = [raw for raw in client.lrange(key, 0, -1) if json.loads(raw)["headers"]["task"] == name]
    for raw in mine:
        client.lrem(key, 1, raw)
    client.close()
    return len(mine)


def test_wake_ups_within_a_window_make_one_send_after_it(db, django_capture_on_commit_callbacks):
    name = f"tests.wake.{uuid.uuid4().hex}"
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            background.task_wake_on_commit(name, within=0.5)

    assert queued(name) == 1
    time.sleep(0.6)
    with django_capture_on_commit_callbacks(execute=True):
        background.task_wake_on_commit(name, within=0.5)
    assert queued(name) == 1


def test_a_rolled_back_transaction_wakes_nothing(transactional_db):
    name = f"tests.wake.{uuid.uuid4().hex}"
    with contextlib.suppress(RuntimeError), transaction.atomic():
        background.task_wake_on_commit(name, within=0.5)
        raise RuntimeError("rolled back")

    assert queued(name) == 0
