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


def _answer(entry: tuple[str, bytes], etag: str, source: str) -> HttpResponse:
    content_type, body = entry
    response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = public_cache_control()
    response["X-Cache"] = source
    return response


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or etag in (t.removeprefix("W/") for t in tags)


def _encode(content_type: str, body: bytes) -> bytes:
    return content_type.encode() + b"\n" + body


def _decode(raw: bytes) -> tuple[str, bytes]:
    content_type, _, body = raw.partition(b"\n")
    return content_type.decode(), body


def cached_response(spec_for: Callable[..., CacheSpec]):
    """Wrap a view so that its 200 GET responses are served from the layered cache."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or not settings.CACHE_RESPONSES:
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
                metrics.L1_HIT.inc()
                return _answer(entry, etag, "HIT-L1")
            metrics.L1_MISS.inc()
            return _from_l2_or_view(view, request, args, kwargs, digest, etag)

        return wrapper

    return decorator


def _from_l2_or_view(view, request, args, kwargs, digest: str, etag: str) -> HttpResponse:
    name = "r:" + digest
    owns_lock = False
    try:
        raw = remote.get(name)
        if raw is None:
            lock = "lock:" + digest
            owns_lock = remote.lock_acquire(lock, settings.CACHE_REBUILD_LOCK_SECONDS)
            if not owns_lock:
                # Another worker is rebuilding this very response: wait for it, not add load.
                raw = _wait_for(name)
    except Unavailable:
        metrics.BYPASSES.inc()
        return view(request, *args, **kwargs)
    if raw is not None:
        metrics.L2_HIT.inc()
        entry = _decode(raw)
        l1_put(digest, entry)
        return _answer(entry, etag, "HIT-L2")
    metrics.L2_MISS.inc()
    try:
        return _rebuild(view, request, args, kwargs, digest, etag)
    finally:
        if owns_lock:
            with suppress(Unavailable):  # it expires by itself
                remote.lock_release("lock:" + digest)


def _wait_for(name: str) -> bytes | None:
    deadline = time.monotonic() + settings.CACHE_REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        raw = remote.get(name)
        if raw is not None:
            return raw
    return None  # the rebuilder died or is slow: rebuild ourselves rather than fail


def _rebuild(view, request, args, kwargs, digest: str, etag: str) -> HttpResponse:
    metrics.REBUILDS.inc()
    response = view(request, *args, **kwargs)
    if hasattr(response, "render"):
        response.render()
    if response.status_code != 200:
        return response
    entry = (response["Content-Type"], response.content)
    try:
        remote.put("r:" + digest, _encode(*entry), settings.CACHE_L2_TTL_SECONDS)
    except Unavailable:
        return response
    l1_put(digest, entry)
    response["ETag"] = etag
    response["Cache-Control"] = public_cache_control()
    response["X-Cache"] = "MISS"
    return response
