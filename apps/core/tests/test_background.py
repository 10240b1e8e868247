"""The Celery app: what services send by name exists, the schedule runs real tasks, URLs."""

from django.conf import settings

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
    assert {"global_keyprefix": f"{prefix}:celery:"} == settings.CELERY_BROKER_TRANSPORT_OPTIONS
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
