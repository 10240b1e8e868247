"""Token authentication without a query per request, as safe as the catalog's cache.

A token's user is kept in a per-process cache under the ``auth`` version (``apps/core/caching``):
deleting or replacing a token, and saving or deleting a user (deactivation, a new password), bump
it after the commit, and every process hears the bump over Redis pub/sub before its next request
(``versions.py``). With Redis away the version cannot be trusted: every request asks the database,
as DRF's own ``TokenAuthentication`` does.
"""

from __future__ import annotations

import hashlib
import threading

from cachetools import TTLCache
from django.core.signals import setting_changed
from django.db import transaction
from rest_framework.authentication import TokenAuthentication

from apps.core.caching import remote, versions
from apps.core.caching.remote import Unavailable

AUTH_VERSION = "auth"
# Its own store, not the response cache's L1: buyers' tokens must not evict catalog pages, nor
# catalog pages evict tokens. The TTL bounds memory, not staleness (the versions bound that).
MAX_TOKENS = 10_000
TTL_SECONDS = 300.0

_lock = threading.Lock()
_known: TTLCache = TTLCache(MAX_TOKENS, TTL_SECONDS)


def known_tokens_clear(**kwargs) -> None:
    with _lock:
        _known.clear()


setting_changed.connect(known_tokens_clear)


def _entry_key(epoch: int, version: int, token: str) -> str:
    # The token is a credential: only a hash of it is ever a cache key.
    return f"auth:{epoch}:{version}:{hashlib.sha256(token.encode()).hexdigest()}"


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's ``Token <key>`` scheme, answering known tokens from memory."""

    def authenticate_credentials(self, key: str):
        try:
            epoch, version = versions.versions_current(["epoch", AUTH_VERSION])
        except Unavailable:
            return super().authenticate_credentials(key)
        entry = _entry_key(epoch, version, key)
        with _lock:  # TTLCache is not thread-safe and granian runs threads per worker
            known = _known.get(entry)
        if known is not None:
            return known
        # An unknown or inactive token raises AuthenticationFailed here and is not kept.
        known = super().authenticate_credentials(key)
        with _lock:
            _known[entry] = known
        return known


def auth_changed(**kwargs) -> None:
    """After the commit, make every process forget the tokens it knows."""
    transaction.on_commit(_auth_version_bump)


def _auth_version_bump() -> None:
    try:
        remote.versions_bump([AUTH_VERSION])
    except Unavailable:
        # Nothing is answered from memory while Redis is away; when it is back, the epoch (part
        # of every entry's key) is bumped before anything is read.
        remote.write_lost()
