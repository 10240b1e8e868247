"""django-cachalot support: the breaker, hit/miss counters, and invalidation it cannot do itself.

Cachalot invalidates a table when the ORM (or raw SQL through Django) writes it. The listing
triggers write ``catalog_product`` from inside stock and variant statements, behind its back, so
the catalog invalidates those tables itself after such a commit (``orm_invalidate``).

Its store goes through the response cache's breaker (``remote.guarded``): while Redis is away a
query costs no socket timeout, and an invalidation lost then is made up for when Redis is back
(``orm_invalidate_all``, an after-outage hook), before any entry is read again.
"""

from __future__ import annotations

import time

from cachalot.api import invalidate
from cachalot.settings import cachalot_settings
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS
from django_redis.cache import RedisCache

from apps.core.caching import metrics, remote


class CountingRedisCache(RedisCache):
    """django-redis backend for cachalot's alias: behind the breaker, and counting hits."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        # Errors must reach the breaker (django-redis would swallow them one timeout at a time).
        self._ignore_exceptions = False

    def get_many(self, keys, version=None, client=None):
        parent = super()
        try:
            found = remote.guarded(lambda _: parent.get_many(keys, version=version, client=client))
        except remote.Unavailable:
            found = {}  # a miss: cachalot runs the query on PostgreSQL
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

    def set_many(self, data, timeout=None, version=None, client=None):
        parent = super()
        try:
            return remote.guarded(lambda _: parent.set_many(data, timeout, version, client))
        except remote.Unavailable:
            # Possibly an invalidation (table stamps): make it up for when Redis is back.
            remote.write_lost()
            return []


def orm_invalidate(*tables_or_models) -> None:
    """Drop cachalot's entries for these tables, including reads that straddle the commit.

    Cachalot stamps an entry with the time it was *stored*: a query that read the old rows just
    before the commit and stored them just after this invalidation would look fresh. Stamping the
    tables ``CACHALOT_SETTLE_SECONDS`` into the future voids such entries (nothing on these tables
    is served from cachalot for that long after a write; a query takes far less).
    """
    tables = [t if isinstance(t, str) else t._meta.db_table for t in tables_or_models]
    invalidate(*tables, cache_alias=settings.CACHALOT_CACHE, db_alias=DEFAULT_DB_ALIAS)
    keygen = cachalot_settings.CACHALOT_TABLE_KEYGEN
    settled = time.time() + settings.CACHALOT_SETTLE_SECONDS
    caches[settings.CACHALOT_CACHE].set_many(
        {keygen(DEFAULT_DB_ALIAS, table): settled for table in tables},
        cachalot_settings.CACHALOT_TIMEOUT,
    )


def orm_invalidate_all() -> None:
    """Drop every entry cachalot may hold (all its cachable tables)."""
    orm_invalidate(*sorted(cachalot_settings.CACHALOT_ONLY_CACHABLE_TABLES))
