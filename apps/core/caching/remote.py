"""Redis (L2) for the response cache: raw bytes, versions, rebuild locks, and a circuit breaker.

Values are stored as bytes through the raw client (no pickling: a cached response *is* bytes).
Every call goes through ``_redis``: on a connection error or timeout the breaker opens for
``CACHE_RETRY_SECONDS`` and callers get ``Unavailable``, so a dead Redis costs one failed attempt
per process per interval instead of a timeout per request; after the interval the next call
tries again, which is how the service recovers by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from apps.core.caching import metrics
from apps.core.outages import Outage

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Versions start from the clock, not from 1: after Redis loses its data, a fresh version can never
# equal one that an L1 entry or a client's ETag was built on before the loss. The new values are
# published (as strings: Lua's numbers would print 16 digits in exponent form) to every process's
# copy (versions.py). ARGV: now, channel, then one name per key.
_BUMP = """
local parts = {}
for i, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then
        redis.call('INCR', key)
    else
        redis.call('SET', key, ARGV[1])
    end
    parts[i] = ARGV[i + 2] .. '=' .. redis.call('GET', key)
end
redis.call('PUBLISH', ARGV[2], table.concat(parts, ','))
return #parts
"""


class Unavailable(Exception):
    """Redis did not answer (or the breaker is open): serve from the database."""


class _State:
    client = None
    prefix = ""
    open_until = 0.0
    # Writes (version bumps, cachalot invalidations) lost while Redis was away: on its return the
    # after-outage hooks run and every version is bumped, before anything else is read.
    pending_epoch_bump = False
    bump_script = None


_state = _State()
# Logged once when Redis goes, once per CACHE_OUTAGE_LOG_SECONDS with a count, once when it is back.
OUTAGE = Outage("redis")
_lock = threading.Lock()


def _reset(**kwargs) -> None:
    _state.client = None
    _state.bump_script = None
    _state.open_until = 0.0
    OUTAGE.reset()


setting_changed.connect(_reset)


def _prefix() -> str:
    # The cache's prefix (so test cleanup finds the keys), then the database: two databases
    # served from one Redis (the perf runs' own) must not share versions or responses.
    return cache.make_key(f"sf:{settings.DATABASES['default']['NAME']}:")


def key(name: str) -> str:
    """Return the Redis key for ``name``."""
    if _state.client is None:
        _state.prefix = _prefix()
    return _state.prefix + name


def _client():
    if _state.client is None:
        with _lock:
            if _state.client is None:
                client = get_redis_connection("default")
                _state.bump_script = client.register_script(_BUMP)
                _state.prefix = _prefix()
                _state.client = client
    return _state.client


def channel() -> str:
    return key("versions")


def socket_timeout() -> float:
    return float(settings.CACHES["default"].get("OPTIONS", {}).get("SOCKET_TIMEOUT") or 1.0)


def guarded(operation: Callable[[object], T]) -> T:
    """Run ``operation(client)`` behind the breaker (``Unavailable`` when Redis is away)."""
    return _redis(operation)


def _redis(operation: Callable[[object], T]) -> T:
    """Run ``operation(client)`` unless the breaker is open; open it on a Redis failure."""
    if _state.open_until and time.monotonic() < _state.open_until:
        OUTAGE.failed()
        raise Unavailable()
    try:
        client = _client()
        if _state.pending_epoch_bump:
            # Before the operation: its answer may be one of the entries a lost write voids.
            _recover()
        result = operation(client)
    except (RedisError, OSError) as error:
        _state.open_until = time.monotonic() + settings.CACHE_RETRY_SECONDS
        metrics.CACHE_ERRORS.inc()
        OUTAGE.failed(error)
        raise Unavailable() from error
    if _state.open_until:
        _state.open_until = 0.0
        OUTAGE.recovered()
    return result


def write_lost() -> None:
    """Note a write Redis did not take: when it answers again, recover before anything is read."""
    _state.pending_epoch_bump = True


def after_outage(hook: Callable[[], None]) -> None:
    """Register ``hook`` (once) to run whenever Redis answers again after writes to it were lost."""
    if hook not in _after_outage:
        _after_outage.append(hook)


_after_outage: list[Callable[[], None]] = []


def _recover() -> None:
    """Void what lost writes left stale: the hooks' stores (cachalot), then every version."""
    _state.pending_epoch_bump = False
    for hook in _after_outage:
        hook()
    versions_bump(["epoch"])  # marks the bump pending again if Redis is gone once more


def available() -> bool:
    """Return whether Redis answers a PING now (for /readyz; ignores and resets the breaker)."""
    if _state.open_until:
        _state.open_until = time.monotonic()  # expired: this call tries Redis
    try:
        return bool(_redis(lambda client: client.ping()))
    except Unavailable:
        return False


def versions_get(names: Sequence[str]) -> list[int]:
    """Return the current version of each name, creating missing ones from the clock."""
    keys = [key("v:" + name) for name in names]
    values = _redis(lambda client: client.mget(keys))
    missing = [i for i, value in enumerate(values) if value is None]
    if missing:
        now = time.time_ns() // 1000
        pipe_results = _redis(
            lambda client: _init_versions(client, [keys[i] for i in missing], now)
        )
        for i, value in zip(missing, pipe_results, strict=True):
            values[i] = value
    return [int(value) for value in values]


def _init_versions(client, keys: list[str], now: int) -> list[bytes]:
    pipe = client.pipeline(transaction=False)
    for name in keys:
        pipe.set(name, now, nx=True)
        pipe.get(name)
    return pipe.execute()[1::2]


def versions_bump(names: Sequence[str]) -> None:
    """Move each name to a new version: every key built on the old one is dead at once."""
    if not names:
        return
    now = time.time_ns() // 1000

    def bump(client) -> None:
        keys = [key("v:" + name) for name in names]
        _state.bump_script(keys=keys, args=[now, channel(), *names], client=client)
        # One more round trip: Redis writes all replies and messages of one event-loop turn
        # before it answers the next, so when this returns every subscriber has the message.
        client.ping()

    try:
        _redis(bump)
    except Unavailable:
        # A lost bump could leave stale entries once Redis is reachable again (a partition rather
        # than a restart): the next successful call bumps the epoch that every key includes.
        write_lost()
        raise


def get_refreshed(name: str, ttl: int) -> bytes | None:
    """Return ``name`` and give it ``ttl`` seconds to live again (one GETEX round trip)."""
    return _redis(lambda client: client.getex(key(name), ex=ttl))


def get_many(names: Sequence[str]) -> list[bytes | None]:
    keys = [key(name) for name in names]
    return _redis(lambda client: client.mget(keys))


def put(name: str, value: bytes, ttl: int) -> None:
    _redis(lambda client: client.set(key(name), value, ex=ttl))


def lock_acquire(name: str, seconds: float) -> bool:
    """Take the rebuild lock ``name`` for at most ``seconds``; False when another worker has it."""
    return bool(_redis(lambda client: client.set(key(name), b"1", nx=True, px=int(seconds * 1000))))


def lock_release(name: str) -> None:
    _redis(lambda client: client.delete(key(name)))
