"""Response caching for public GETs: versioned keys, L1 then L2, one rebuild per miss, 304s.

A request reads the versions its response depends on (one Redis round trip), derives the key and
the ETag from them, and answers from L1, then L2, then by running the view. A write bumps a
version after its commit, so every later request computes a new key: invalidation is one
increment, and no layer can serve a body older than the last bump that returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache, wraps
from hashlib import blake2b

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from apps.core.caching import metrics, remote
from apps.core.caching.local import l1_get, l1_put
from apps.core.caching.remote import Unavailable
from apps.core.caching.versions import versions_current

_POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """What a cached response is: its kind, its identity, and the versions it depends on."""

    kind: str
    identity: str
    versions: tuple[str, ...]


@cache
def public_cache_control() -> str:
    return (
        f"public, max-age={settings.CATALOG_CACHE_MAX_AGE}, "
        f"stale-while-revalidate={settings.CATALOG_CACHE_STALE_WHILE_REVALIDATE}"
    )


setting_changed.connect(lambda **kwargs: public_cache_control.cache_clear(), weak=False)


# An entry: (status, content type, body). A 404 is kept too, briefly (CACHE_NOT_FOUND_TTL_SECONDS),
# under the same versioned key as a page: a crawler on deleted URLs is answered from memory, and
# whoever waits for a rebuild of a missing product gets its answer instead of waiting it out.
Entry = tuple[int, str, bytes]
CACHED_STATUSES = frozenset({200, 404})


def _answer(entry: Entry, etag: str, source: str) -> HttpResponse:
    status, content_type, body = entry
    response = HttpResponse(body, content_type=content_type, status=status)
    if status == 200:
        response["ETag"] = etag
        response["Cache-Control"] = public_cache_control()
    response["X-Cache"] = source
    return response


def _count_hit(entry: Entry, layer_hit) -> None:
    # 404s apart: a crawler's misses would otherwise read as a cache that does not work.
    (layer_hit if entry[0] == 200 else metrics.NOT_FOUND_HIT).inc()


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or etag in (t.removeprefix("W/") for t in tags)


def _encode(entry: Entry) -> bytes:
    status, content_type, body = entry
    return f"{status} {content_type}".encode() + b"\n" + body


def _decode(raw: bytes) -> Entry:
    head, _, body = raw.partition(b"\n")
    status, _, content_type = head.decode().partition(" ")
    return int(status), content_type, body


def cached_response(spec_for: Callable[..., CacheSpec]):
    """Wrap a view so that its 200 GET responses are served from the layered cache."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if (
                request.method not in ("GET", "HEAD")
                or not settings.CACHE_RESPONSES
                # Every cached body is JSON: a client that will not take JSON gets the view's
                # own answer (a 406), never a cached JSON body.
                or not request.accepts("application/json")
            ):
                return view(request, *args, **kwargs)
            spec = spec_for(request, *args, **kwargs)
            try:
                versions = versions_current(("epoch", *spec.versions))
            except Unavailable:
                metrics.BYPASSES.inc()
                return view(request, *args, **kwargs)
            material = f"{settings.CACHE_RELEASE}\0{spec.kind}\0{spec.identity}\0{versions}"
            digest = blake2b(material.encode(), digest_size=16).hexdigest()
            etag = f'"{digest}"'
            if _not_modified(request, etag):
                metrics.HTTP_HIT.inc()
                response = HttpResponseNotModified()
                response["ETag"] = etag
                response["Cache-Control"] = public_cache_control()
                return response
            entry = l1_get(digest)
            if entry is not None:
                _count_hit(entry, metrics.L1_HIT)
                return _answer(entry, etag, "HIT-L1")
            return _from_l2_or_view(view, request, args, kwargs, digest, etag)

        return wrapper

    return decorator


def _from_l2_or_view(view, request, args, kwargs, digest: str, etag: str) -> HttpResponse:
    name = "r:" + digest
    lock = "lock:" + digest
    owns_lock = False
    try:
        # A hit earns the entry its full life; a new one lives CACHE_L2_NEW_TTL_SECONDS.
        raw = remote.get_refreshed(name, settings.CACHE_L2_TTL_SECONDS)
        if raw is None:
            owns_lock = remote.lock_acquire(lock, settings.CACHE_REBUILD_LOCK_SECONDS)
            if not owns_lock:
                # Another worker is rebuilding this very response: wait for it, not add load.
                raw = _wait_for(name, lock)
    except Unavailable:
        metrics.BYPASSES.inc()
        return view(request, *args, **kwargs)
    if raw is not None:
        entry = _decode(raw)
        if entry[0] == 200:
            metrics.L1_MISS.inc()
        _count_hit(entry, metrics.L2_HIT)
        l1_put(digest, entry)
        return _answer(entry, etag, "HIT-L2")
    try:
        return _rebuild(view, request, args, kwargs, digest, etag)
    finally:
        if owns_lock:
            with suppress(Unavailable):  # it expires by itself
                remote.lock_release(lock)


def _wait_for(name: str, lock: str) -> bytes | None:
    """Poll for the entry the lock holder is building; None once it gave up or gave none."""
    deadline = time.monotonic() + settings.CACHE_REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        raw, locked = remote.get_many([name, lock])
        if raw is not None:
            return raw
        if locked is None:
            # Released without an entry: an answer that is not cached (an error). Each waiter
            # builds its own rather than wait out the deadline holding a server thread.
            return None
    return None  # the rebuilder died or is slow: rebuild ourselves rather than fail


def _rebuild(view, request, args, kwargs, digest: str, etag: str) -> HttpResponse:
    response = view(request, *args, **kwargs)
    if hasattr(response, "render"):
        response.render()
    status = response.status_code
    if status == 200:
        metrics.L1_MISS.inc()
        metrics.L2_MISS.inc()
        metrics.REBUILDS.inc()
    elif status == 404:
        metrics.NOT_FOUND_MISS.inc()
    if status not in CACHED_STATUSES:
        return response
    entry = (status, response["Content-Type"], response.content)
    # Stored for a short while first: a one-off URL (a random filter value, a crawler's) costs
    # Redis memory for CACHE_L2_NEW_TTL_SECONDS, not an hour; the first L2 hit extends it.
    ttl = (
        settings.CACHE_L2_NEW_TTL_SECONDS if status == 200 else settings.CACHE_NOT_FOUND_TTL_SECONDS
    )
    try:
        remote.put("r:" + digest, _encode(entry), ttl)
    except Unavailable:
        return response
    l1_put(digest, entry)
    if status == 200:
        response["ETag"] = etag
        response["Cache-Control"] = public_cache_control()
    response["X-Cache"] = "MISS"
    return response
