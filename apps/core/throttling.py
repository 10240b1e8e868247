"""DRF throttles counted in Redis with one round trip: a sliding window in a sorted set.

DRF's ``SimpleRateThrottle`` reads the whole request history of a client, then writes it back:
two round trips and a pickle of a growing list per request. Here one Lua script trims the window,
counts, and adds the request when it is allowed, atomically (two workers cannot both take the
last slot). The limits and the window are DRF's: ``N/period`` from ``DEFAULT_THROTTLE_RATES``.
With Redis away, DRF's own code counts in the per-process fallback cache (``GuardedRedisCache``),
so a client is still limited, per process.
"""

from __future__ import annotations

import time
import uuid

from rest_framework.throttling import SimpleRateThrottle

from apps.core.caching import remote
from apps.core.caching.remote import Unavailable

# KEYS[1]: the client's window. ARGV: now (ms), window (ms), limit, member.
# Returns 0 when allowed, else the milliseconds until the oldest request leaves the window.
_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('PEXPIRE', KEYS[1], window)
    return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""
_script: list = []  # one Script (its SHA computed once), always run on the client given


class WindowRateThrottle(SimpleRateThrottle):
    """``SimpleRateThrottle`` whose counting is one atomic Redis call."""

    _retry_ms = 0

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            retry_ms = remote.guarded(self._count)
        except Unavailable:
            return super().allow_request(request, view)
        self._retry_ms = retry_ms
        return retry_ms == 0

    def _count(self, client) -> int:
        if not _script:
            _script.append(client.register_script(_WINDOW))
        now_ms = int(time.time() * 1000)
        window_ms = int(self.duration * 1000)
        member = f"{now_ms}:{uuid.uuid4().hex[:8]}"  # two requests in one millisecond count twice
        args = [now_ms, window_ms, self.num_requests, member]
        return int(_script[0](keys=[remote.key(self.key)], args=args, client=client))

    def wait(self) -> float | None:
        if self._retry_ms:
            return self._retry_ms / 1000
        return super().wait() if hasattr(self, "history") else None
