"""Current cache versions without a Redis round trip: a per-process copy kept current by push.

Every bump publishes the new versions on a channel (``remote.versions_bump``), and each process
holds a subscription. Before answering from its copy, a request drains the messages already in
the subscription's socket (a non-blocking poll, no round trip), so a version is never older than
the last bump this process could have heard of. The bump's caller then makes one more round trip
(PING): by the time it returns, Redis has written the message to every subscriber's socket, so a
request that starts after a write has returned always finds that write's message waiting.

Anything that could lose a message (a reconnect, an error) empties the copy: versions are then read
from Redis again, after the subscription is back in place. A Redis that stops answering without
closing its sockets (paused, partitioned) sends no error, so the copy is also a lease: after
``CACHE_VERSION_LEASE_SECONDS`` it is emptied and read again, which finds such an outage. That is
the staleness bound while Redis is unreachable; otherwise versions are current.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.signals import setting_changed
from redis.client import PubSub
from redis.exceptions import RedisError

from apps.core.caching import remote
from apps.core.caching.remote import Unavailable

# Names seen by one process (epoch, listing, one per viewed product): capped, then started over.
MAX_NAMES = 200_000

_lock = threading.Lock()
_values: dict[str, int] = {}
_lease = [0.0]  # monotonic time until which the copy may be used without asking Redis


class _Subscription(PubSub):
    def on_connect(self, connection) -> None:
        # A (re)connect may have missed messages: nothing held so far can be trusted.
        _values.clear()
        super().on_connect(connection)


_pubsub: _Subscription | None = None


def versions_reset(**kwargs) -> None:
    """Forget the subscription and every version held (settings change, tests)."""
    global _pubsub
    with _lock:
        _values.clear()
        _lease[0] = 0.0
        if _pubsub is not None:
            _pubsub.close()
            _pubsub = None


setting_changed.connect(versions_reset)


def _subscribe(client) -> _Subscription:
    pubsub = _Subscription(client.connection_pool, ignore_subscribe_messages=False)
    pubsub.subscribe(remote.channel())
    # Wait for the confirmation: only then do messages published from now on reach us.
    while True:
        message = pubsub.get_message(timeout=remote.socket_timeout())
        if message is None:
            pubsub.close()
            raise RedisError("no subscription confirmation")
        if message["type"] == "subscribe":
            return pubsub


def _drain() -> None:
    # The common case, nothing pending, is one non-blocking poll of the socket.
    if not _pubsub.connection.can_read(timeout=0):
        return
    while True:
        message = _pubsub.get_message(ignore_subscribe_messages=True, timeout=0.0)
        if message is None:
            return
        for item in message["data"].split(b","):
            name, _, value = item.decode().rpartition("=")
            if name in _values:
                _values[name] = max(_values[name], int(value))


def versions_current(names: Sequence[str]) -> list[int]:
    """Return the current version of each name; raise ``Unavailable`` when Redis is away."""
    global _pubsub
    with _lock:
        try:
            if _pubsub is None:
                _values.clear()
                _pubsub = remote.guarded(_subscribe)
            remote.guarded(lambda client: _drain())
        except Unavailable:
            if _pubsub is not None:
                _pubsub.close()
                _pubsub = None
            _values.clear()
            raise
        now = time.monotonic()
        if now >= _lease[0] or len(_values) > MAX_NAMES:
            _values.clear()
            _lease[0] = now + settings.CACHE_VERSION_LEASE_SECONDS
        missing = [name for name in names if name not in _values]
        if missing:
            for name, value in zip(missing, remote.versions_get(missing), strict=True):
                # A bump heard meanwhile may already be newer: versions only move forward.
                _values[name] = max(_values.get(name, 0), value)
        return [_values[name] for name in names]
