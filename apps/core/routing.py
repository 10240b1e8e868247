"""Read routing: writes and transactions on the primary, catalog and order reads on a replica.

Only a safe request (GET, HEAD, OPTIONS) reads from the replica (``DATABASE_REPLICA_URL``), and
only for the apps in ``REPLICA_APPS``, outside any transaction. Everything else — writes, a
checkout's reads, Celery tasks, commands — stays on the primary, so a decision is never taken
on a replica's view of the data.

Read-your-writes: a client's unsafe request pins that client (its ``Authorization`` header or
session cookie, hashed) to the primary for ``DATABASE_REPLICA_PIN_SECONDS``, in the shared cache,
so the pin holds on every app instance. A replica that lags more than
``DATABASE_REPLICA_MAX_LAG_SECONDS``, has stopped streaming or does not answer is skipped; each
process asks it again at most every ``DATABASE_REPLICA_CHECK_SECONDS``.

Without ``DATABASE_REPLICA_URL`` there is one database and this router answers nothing.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar

from cachalot.utils import get_table_cache_key
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from apps.core.outages import Outage

REPLICA = "replica"
# Catalog pages and stock shown with them, a buyer's order history.
REPLICA_APPS = frozenset({"catalog", "inventory", "orders"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_PREFIX = "rw-pin:"


class _SafeRequest:
    """A safe request's leave to read from the replica, asked of the shared pin on its first
    routed read only: a request answered from the response cache never pays that round trip."""

    def __init__(self, client: str | None) -> None:
        self.client = client
        self._allowed: bool | None = None

    def allowed(self) -> bool:
        if self._allowed is None:
            self._allowed = self.client is None or cache.get(self.client) is None
        return self._allowed


# Set only while a safe request (or a ``replica_reads`` block) is being served.
_safe_request: ContextVar[_SafeRequest | None] = ContextVar("safe_request", default=None)

# One row: seconds behind the primary (0 when it has replayed all it received, or is no standby),
# and is its WAL receiver streaming (a standby cut off from its primary has nothing left to
# replay, so "caught up" says nothing then).
LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
       END::float8,
       NOT pg_is_in_recovery()
         OR EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaHealth:
    """Whether this process may read from the replica now: asked at most once per interval."""

    def __init__(self) -> None:
        self.usable_now = False
        self.lag = None  # seconds, as last measured
        self._next_check = 0.0
        self._lock = threading.Lock()
        self.outage = Outage("database replica")

    def usable(self) -> bool:
        if time.monotonic() < self._next_check or not self._lock.acquire(blocking=False):
            return self.usable_now  # another thread is asking: its last answer stands
        try:
            self._next_check = time.monotonic() + settings.DATABASE_REPLICA_CHECK_SECONDS
            self.usable_now = self._check()
        finally:
            self._lock.release()
        return self.usable_now

    def _check(self) -> bool:
        replica = connections[REPLICA]
        try:
            with replica.cursor() as cursor:
                cursor.execute(LAG_SQL)
                lag, streaming = cursor.fetchone()
        except DatabaseError as error:
            self.lag = None
            self.failed(error)
            return False
        self.lag = lag
        if not streaming or lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
            self.outage.failed(f"lag {lag:.1f} s, streaming: {streaming}")
            return False
        self.outage.recovered()
        return True

    def failed(self, error: BaseException) -> None:
        """Skip the replica until the next check: a query on it just failed."""
        self.usable_now = False
        self._next_check = time.monotonic() + settings.DATABASE_REPLICA_CHECK_SECONDS
        with suppress(DatabaseError):
            connections[REPLICA].close()
        self.outage.failed(error)

    def reset(self) -> None:
        self.usable_now, self.lag, self._next_check = False, None, 0.0
        self.outage.reset()


REPLICA_HEALTH = ReplicaHealth()


class PrimaryReplicaRouter:
    """Django database router (``DATABASE_ROUTERS``): see the module's docstring."""

    def db_for_read(self, model, **hints) -> str | None:
        safe_request = _safe_request.get()
        if (
            safe_request is not None
            and replica_configured()
            and model._meta.app_label in REPLICA_APPS
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
            and safe_request.allowed()
            and REPLICA_HEALTH.usable()
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, seen twice

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


def read_alias(model) -> str:
    """Return the alias a read of ``model`` goes to now (for SQL run by hand)."""
    from django.db import router

    return router.db_for_read(model) or DEFAULT_DB_ALIAS


def cachalot_table_key(db_alias: str, table: str) -> str:
    """Key cachalot's table stamps by database, not by alias: a write on the primary must void
    what was cached from the replica (the same tables)."""
    return get_table_cache_key(DEFAULT_DB_ALIAS if db_alias == REPLICA else db_alias, table)


def _client_key(request: HttpRequest) -> str | None:
    """Name the client for its pin: its credentials, hashed (never stored), or None."""
    credential = request.headers.get("Authorization") or request.COOKIES.get(
        settings.SESSION_COOKIE_NAME
    )
    if not credential:
        return None
    return PIN_PREFIX + hashlib.blake2b(credential.encode(), digest_size=12).hexdigest()


def read_routing(get_response: Callable[[HttpRequest], HttpResponse]):
    """Let a safe request of an unpinned client read from the replica; pin a writing client."""
    if not replica_configured():
        return get_response

    def middleware(request: HttpRequest) -> HttpResponse:
        client = _client_key(request)
        if request.method not in SAFE_METHODS:
            response = get_response(request)
            if client:
                cache.set(client, 1, settings.DATABASE_REPLICA_PIN_SECONDS)
            return response
        token = _safe_request.set(_SafeRequest(client))
        try:
            return get_response(request)
        finally:
            _safe_request.reset(token)

    return middleware


class replica_reads:
    """Allow replica reads in this block outside a request (a context manager, for tests and
    tooling)."""

    def __enter__(self):
        self._token = _safe_request.set(_SafeRequest(None))
        return self

    def __exit__(self, *exc) -> None:
        _safe_request.reset(self._token)
