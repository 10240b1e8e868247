"""django-cachalot support: hit/miss counters, and invalidation for writes cachalot cannot see.

Cachalot invalidates a table when the ORM (or raw SQL through Django) writes it. The listing
triggers write ``catalog_product`` from inside stock and variant statements, behind its back, so
the catalog invalidates those tables itself after such a commit (``orm_invalidate``).
"""

from __future__ import annotations

import time

from cachalot.api import invalidate
from cachalot.settings import cachalot_settings
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS
from django_redis.cache import RedisCache

from apps.core.caching import metrics


class CountingRedisCache(RedisCache):
    """django-redis backend for cachalot's alias that counts cachalot's hits and misses."""

    def get_many(self, keys, version=None, client=None):
        found = super().get_many(keys, version=version, client=client)
        if not isinstance(keys, list) or not keys:
            return found  # not a query lookup (cachalot's transaction layer passes sets)
        # Cachalot asks for the tables' invalidation times plus the query's entry (last key);
        # the entry counts only if it is newer than every table, as cachalot itself decides.
        entry = found.get(keys[-1])
        tables = [value for name, value in found.items() if name != keys[-1]]
        fresh = (
            isinstance(entry, tuple)
            and len(found) == len(keys)
            and all(entry[0] >= stamp for stamp in tables)
        )
        (metrics.ORM_HIT if fresh else metrics.ORM_MISS).inc()
        return found


def orm_invalidate(*models) -> None:
    """Drop cachalot's entries for ``models``' tables, including reads that straddle the commit.

    Cachalot stamps an entry with the time it was *stored*: a query that read the old rows just
    before the commit and stored them just after this invalidation would look fresh. Stamping the
    tables ``CACHALOT_SETTLE_SECONDS`` into the future voids such entries (nothing on these tables
    is served from cachalot for that long after a write; a query takes far less).
    """
    invalidate(*models, cache_alias=settings.CACHALOT_CACHE, db_alias=DEFAULT_DB_ALIAS)
    keygen = cachalot_settings.CACHALOT_TABLE_KEYGEN
    settled = time.time() + settings.CACHALOT_SETTLE_SECONDS
    caches[settings.CACHALOT_CACHE].set_many(
        {keygen(DEFAULT_DB_ALIAS, model._meta.db_table): settled for model in models},
        cachalot_settings.CACHALOT_TIMEOUT,
    )
