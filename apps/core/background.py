"""Queue background tasks by name, after the commit: services never import the tasks that wrap them.

What a request asks of the worker is a sweep over rows that carry their own "due" state (an outbox
flag, an expiry time), so a wake-up carries no data and one serves every commit of its window: a
send costs milliseconds of CPU, which a webhook or a checkout under a flash sale cannot spare per
request. Only a staff job (one row, a few a day) is sent with its id. Everything is sent on
commit: a transaction that rolls back asks for nothing, and no task runs before its rows are
visible. Sending never fails the request that committed: with the broker away a message is lost,
a warning is logged once per ``TASK_SEND_FAILURE_LOG_SECONDS`` with how many were lost, and the
schedule's own sweep does the work a little later.
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
_windows: dict[str, float] = {}  # task name -> end of its wake-up window (monotonic)
# A woken sweep starts this long after its window closes: the worker's clock may differ a little.
WAKE_MARGIN_SECONDS = 0.2


def task_send_on_commit(name: str, *args) -> None:
    """Queue task ``name`` with ``args`` once the current transaction commits.

    For a task about one row that records its own state (a staff job): rare, so a send each.
    """
    transaction.on_commit(partial(_send, name, args))


def task_wake_on_commit(name: str, *, within: float) -> None:
    """Have the sweep task ``name`` run within ``within`` seconds of the commit, with one send per
    process for all the commits that ask in that time (a send costs milliseconds; a sweep serves
    every row that is due).

    The first commit of a window sends the task to run after the window has closed, so every
    commit of the window is visible to the sweep. The schedule's own sweep covers a lost send.
    """
    transaction.on_commit(partial(_wake, name, within))


def _wake(name: str, within: float) -> None:
    now = time.monotonic()
    with _lock:
        if now < _windows.get(name, float("-inf")):
            return
        _windows[name] = now + within
    _send(name, (), countdown=within + WAKE_MARGIN_SECONDS)


def _send(name: str, args: tuple, countdown: float | None = None) -> None:
    try:
        # Nobody waits on a result: no subscription to the result store (which may be away too).
        app.send_task(name, args=args, ignore_result=True, countdown=countdown)
    except Exception as error:  # the broker is away: the request that committed must not fail
        with _lock:
            _failures["unlogged"] += 1
            now = time.monotonic()
            if now - _failures["last_logged"] < settings.TASK_SEND_FAILURE_LOG_SECONDS:
                return
            lost, _failures["unlogged"], _failures["last_logged"] = _failures["unlogged"], 0, now
        logger.warning("background tasks not sent (broker unavailable: %s): %d lost", error, lost)
