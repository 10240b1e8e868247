"""Send background tasks by name, after the commit: services never import the tasks that wrap them.

A task sent inside a transaction that rolls back must never run, and one sent before the commit
could run before its rows are visible: both are avoided by sending on commit. Sending never fails
the request that committed: with the broker away the task is lost, a warning is logged once per
``TASK_SEND_FAILURE_LOG_SECONDS`` with how many were lost, and the work is picked up by the
schedule where it can be (emails and expiry are sweeps over the database).
"""

import logging
import threading
import time
from functools import partial

from django.conf import settings
from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_failures = {"last_logged": float("-inf"), "unlogged": 0}


def task_send_on_commit(name: str, *args) -> None:
    """Queue task ``name`` with ``args`` once the current transaction commits (now outside one)."""
    transaction.on_commit(partial(_send, name, args))


def _send(name: str, args: tuple) -> None:
    try:
        # Nobody waits on a result: no subscription to the result store (which may be away too).
        app.send_task(name, args=args, ignore_result=True)
    except Exception as error:  # the broker is away: the request that committed must not fail
        with _lock:
            _failures["unlogged"] += 1
            now = time.monotonic()
            if now - _failures["last_logged"] < settings.TASK_SEND_FAILURE_LOG_SECONDS:
                return
            lost, _failures["unlogged"], _failures["last_logged"] = _failures["unlogged"], 0, now
        logger.warning("background tasks not sent (broker unavailable: %s): %d lost", error, lost)
