"""Send background tasks by name, after the commit: services never import the tasks that wrap them.

A task sent inside a transaction that rolls back must never run, and one sent before the commit
could run before its rows are visible: both are avoided by sending on commit.
"""

from functools import partial

from django.db import transaction

from config.celery import app


def task_send_on_commit(name: str, *args) -> None:
    """Queue task ``name`` with ``args`` once the current transaction commits (now outside one)."""
    transaction.on_commit(partial(app.send_task, name, args=args))
