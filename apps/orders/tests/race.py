"""Deliberate races with real sessions: a competitor's transaction stays open until we wait on it.

The checkout runs inside one server-side statement, so there is no Python step to pause it at.
Instead the competitor does its work on its own connection and keeps its transaction (and row
locks) open; the moment another session waits for one of its locks, it commits. The checkout
has by then read what it reads without a lock, and must re-check what it finds under the lock.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

BLOCKED_SQL = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"


def run_in_thread(target: Callable[[], object]) -> object:
    """Run ``target`` on its own connection and transaction, wait for it, return its result."""
    result: list[object] = []
    errors: list[BaseException] = []

    def body():
        try:
            result.append(target())
        except BaseException as error:  # re-raised in the caller
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout=30)
    if thread.is_alive():
        raise AssertionError("the competing action did not finish (is it waiting for our lock?)")
    if errors:
        raise errors[0]
    return result[0]


@contextmanager
def committed_once_waited_for(work: Callable[[], object], timeout: float = 10.0) -> Iterator[dict]:
    """Run ``work`` in another session's open transaction; commit it once someone waits on it.

    Yields a dict that gets ``result`` (what ``work`` returned) and ``blocked`` (whether a
    session did wait for it before the commit) when the block ends.
    """
    outcome: dict = {}
    done_work = threading.Event()
    errors: list[BaseException] = []

    def competitor():
        try:
            with transaction.atomic():
                outcome["result"] = work()
                done_work.set()
                with connection.cursor() as cursor:
                    # The server's pid, not the client's: behind pgbouncer they differ.
                    cursor.execute("SELECT pg_backend_pid()")
                    pid = cursor.fetchone()[0]
                deadline = time.monotonic() + timeout
                blocked = False
                while not blocked and time.monotonic() < deadline:
                    with connection.cursor() as cursor:
                        cursor.execute(BLOCKED_SQL, [pid])
                        blocked = cursor.fetchone()[0] > 0
                    time.sleep(0.01)
                outcome["blocked"] = blocked
        except BaseException as error:  # re-raised in the caller
            errors.append(error)
            done_work.set()
        finally:
            connection.close()

    thread = threading.Thread(target=competitor)
    thread.start()
    done_work.wait(timeout)
    try:
        yield outcome
    finally:
        thread.join(timeout + 5)
        if errors:
            raise errors[0]
