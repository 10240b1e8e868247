"""The default cache: django-redis behind the breaker, with a per-process fallback while away.

Throttles, and anything else using ``django.core.cache.cache``, keep working during a Redis
outage: each call goes through the response cache's breaker (``remote.guarded``), so a dead Redis
costs one failed call per retry interval and the outage is logged once per interval, not a
traceback per call; while the breaker is open the call is answered by an in-process memory cache.
A throttle therefore keeps limiting per process during an outage instead of failing open, and
goes back to the shared counts in Redis when it answers again.
"""

from __future__ import annotations

from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

from apps.core.caching import remote

# What Django's memory cache understands of django-redis's keyword arguments.
_LOCAL_KWARGS = frozenset({"default", "timeout", "version", "delta"})
_GUARDED = (
    "get",
    "set",
    "add",
    "delete",
    "get_many",
    "set_many",
    "delete_many",
    "has_key",
    "incr",
    "decr",
    "touch",
)
FALLBACK_MAX_ENTRIES = 10_000


class GuardedRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        # Errors must reach the breaker: django-redis would swallow them one timeout at a time.
        self._ignore_exceptions = False
        self.fallback = LocMemCache(
            f"fallback:{server}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES},
            },
        )


def _guard(name: str):
    parent = getattr(RedisCache, name)

    def method(self, *args, **kwargs):
        try:
            return remote.guarded(lambda _client: parent(self, *args, **kwargs))
        except remote.Unavailable:
            local = {key: value for key, value in kwargs.items() if key in _LOCAL_KWARGS}
            fallback = "add" if name == "set" and kwargs.get("nx") else name
            return getattr(self.fallback, fallback)(*args, **local)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = parent.__doc__
    return method


for _name in _GUARDED:
    setattr(GuardedRedisCache, _name, _guard(_name))
