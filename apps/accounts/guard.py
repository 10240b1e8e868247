"""What a password guess may cost: failed logins counted per account and per address, and
password hashing bounded per process so that it cannot take every server thread.

A wrong-password request costs 250-390 ms of CPU (PBKDF2 at Django's work factor): one address
well under its rate limit pushed the product list's p50 from 3 ms to 540 ms, and ``/admin/login/``
took 160 guesses in 22 s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import blake2b

from django.conf import settings
from django.core.cache import cache

from apps.accounts.errors import HashingBusy, TooManyFailedLogins

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    if _slots is None:
        with _slots_lock:
            if _slots is None:
                _slots = threading.BoundedSemaphore(settings.PASSWORD_HASHING_CONCURRENCY)
    return _slots


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the process's ``PASSWORD_HASHING_CONCURRENCY`` hashing slots, else a 503."""
    slots = _semaphore()
    if not slots.acquire(timeout=settings.PASSWORD_HASHING_WAIT_SECONDS):
        raise HashingBusy()
    try:
        yield
    finally:
        slots.release()


def _keys(username: str, address: str) -> tuple[str, str]:
    account = blake2b(username.lower().encode(), digest_size=12).hexdigest()
    return f"login-fail:account:{account}", f"login-fail:address:{address}"


def failed_logins_check(username: str, address: str) -> None:
    """Refuse (429) before any hashing when this account or address failed too often lately."""
    account, origin = _keys(username, address)
    counts = cache.get_many([account, origin])
    if (
        counts.get(account, 0) >= settings.LOGIN_FAILURES_PER_ACCOUNT
        or counts.get(origin, 0) >= settings.LOGIN_FAILURES_PER_ADDRESS
    ):
        raise TooManyFailedLogins(wait=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def failed_login_record(username: str, address: str) -> None:
    for name in _keys(username, address):
        cache.add(name, 0, settings.LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.set(name, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def failed_logins_clear(username: str, address: str) -> None:
    """A success clears the account's count (not the address's: one right password among many)."""
    cache.delete(_keys(username, address)[0])
