"""L1: a small per-process cache of rendered responses, keyed by key *and* version.

Entries are looked up only under the versions just read from Redis, so L1 is never staler than
L2: its TTL bounds memory held by dead versions, not staleness.
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache
from django.conf import settings
from django.core.signals import setting_changed

_lock = threading.Lock()
_entries: TTLCache | None = None


def _cache() -> TTLCache:
    global _entries
    if _entries is None:
        _entries = TTLCache(settings.CACHE_L1_MAX_ENTRIES, settings.CACHE_L1_TTL_SECONDS)
    return _entries


def l1_get(key: str) -> Any:
    with _lock:  # TTLCache is not thread-safe and granian runs threads per worker
        return _cache().get(key)


def l1_put(key: str, value: Any) -> None:
    with _lock:
        _cache()[key] = value


def l1_clear(**kwargs) -> None:
    global _entries
    with _lock:
        _entries = None


setting_changed.connect(l1_clear)
