"""A deliberate race: run a competing action between a checkout's validation and its stock lock."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection

from apps.inventory import services as inventory_services
from apps.orders import services as order_services


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
def competitor_before_lock(competitor: Callable[[], object]) -> Iterator[list[object]]:
    """Run ``competitor`` once, in another thread, just before the checkout locks its stock rows.

    At that point the checkout has validated its lines and checked availability without a lock;
    whatever the competitor commits now is only visible to the re-check under the lock.
    """
    real_allocate = order_services.stock_allocate
    outcomes: list[object] = []
    started = threading.Event()

    def racing_allocate(*args, **kwargs):
        # Only the first checkout races; the competitor's own checkout goes straight through.
        if not started.is_set():
            started.set()
            outcomes.append(run_in_thread(competitor))
        return real_allocate(*args, **kwargs)

    order_services.stock_allocate = racing_allocate
    try:
        yield outcomes
    finally:
        order_services.stock_allocate = real_allocate


@contextmanager
def stale_quantities_under_lock(stale: dict[int, int]) -> Iterator[None]:
    """Make the allocation trust quantities read before the lock (no re-check)."""
    real_lock = inventory_services.stock_lock_for_variants

    def stale_lock(variant_ids):
        rows = real_lock(variant_ids)
        return [
            (pk, variant, stale.get(pk, quantity), prio) for pk, variant, quantity, prio in rows
        ]

    inventory_services.stock_lock_for_variants = stale_lock
    try:
        yield
    finally:
        inventory_services.stock_lock_for_variants = real_lock
