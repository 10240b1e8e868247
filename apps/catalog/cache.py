"""What each cached catalog response depends on, and the one call that invalidates it.

Two kinds of versions:

- ``listing``: everything a product summary or the category tree shows (names, categories, tags,
  prices, ``in_stock``, membership in filtered lists). Every catalog response depends on it.
- ``product:<slug>``: what only a product's detail shows, above all ``available`` per variant,
  which every sale changes. A sale bumps only its products' versions, and ``listing`` only when a
  stock row crossed zero (the only way a sale can change ``in_stock``), so a flash sale does not
  empty the list cache on every order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlencode

from django.http import HttpRequest

from apps.catalog.models import Category, Product, Tag, Variant
from apps.catalog.serializers import ProductListQuery
from apps.core.caching import metrics, remote
from apps.core.caching.orm import orm_invalidate
from apps.core.caching.remote import Unavailable
from apps.core.caching.responses import CacheSpec

logger = logging.getLogger(__name__)

LISTING = "listing"
CATALOG_MODELS = (Category, Tag, Product, Product.tags.through, Variant)
_LIST_PARAMS = tuple(sorted(ProductListQuery().fields))
_MAX_LIST_URLS = 4096
_list_urls: dict[tuple, str] = {}


def product_version(slug: str) -> str:
    return f"product:{slug}"


def product_list_url(request: HttpRequest) -> str:
    """Return the list's canonical URL: known parameters only, sorted (last value wins).

    It is both the cache identity and the base of the body's ``next``/``previous`` links, so two
    requests that share a cached body would also have rendered the same body. Memoized on the
    raw request line and host headers: building it is a third of a cache hit's own cost.
    """
    meta = request.META
    raw = (
        meta.get("wsgi.url_scheme"),
        meta.get("HTTP_X_FORWARDED_PROTO"),
        meta.get("HTTP_HOST"),
        meta.get("SERVER_NAME"),
        meta.get("SERVER_PORT"),
        request.path,
        meta.get("QUERY_STRING", ""),
    )
    url = _list_urls.get(raw)
    if url is None:
        query = request.GET
        pairs = [(name, query[name]) for name in _LIST_PARAMS if name in query]
        base = f"{request.scheme}://{request.get_host()}{request.path}"
        url = f"{base}?{urlencode(pairs)}" if pairs else base
        if len(_list_urls) >= _MAX_LIST_URLS:
            _list_urls.clear()
        _list_urls[raw] = url
    return url


def categories_spec(request: HttpRequest) -> CacheSpec:
    return CacheSpec("categories", "", (LISTING,))


def product_list_spec(request: HttpRequest) -> CacheSpec:
    return CacheSpec("products", product_list_url(request), (LISTING,))


def product_detail_spec(request: HttpRequest, slug: str) -> CacheSpec:
    return CacheSpec("product", slug, (LISTING, product_version(slug)))


def catalog_invalidate(*, listing: bool, product_slugs: Iterable[str] = ()) -> None:
    """Make every later catalog read see a committed write; call it after the commit.

    ``listing`` for anything a summary, a filtered list or the category tree shows; the slugs of
    the products whose detail changed otherwise (an availability change).
    """
    names = [product_version(slug) for slug in sorted(set(product_slugs))]
    if listing:
        # Cachalot first: a rebuild under the new version must not find the old rows there.
        orm_invalidate(*CATALOG_MODELS)
        names.append(LISTING)
        metrics.INVALIDATIONS.labels("listing").inc()
    if len(names) > listing:
        metrics.INVALIDATIONS.labels("product").inc(len(names) - listing)
    try:
        remote.versions_bump(names)
    except Unavailable:
        # Nothing is served from Redis while it is away, and the epoch is bumped on its return;
        # the breaker logs the outage (once per interval, with a count), not each lost bump.
        logger.debug("cache invalidation deferred, redis unavailable: %s", names)


def catalog_invalidate_products(product_ids: Iterable[int], *, listing: bool) -> None:
    """``catalog_invalidate`` for products known by id (one query for their slugs)."""
    ids = sorted(set(product_ids))
    if listing:
        catalog_invalidate(listing=True)  # covers every product's detail as well
    elif ids:
        slugs = Product.objects.filter(pk__in=ids).values_list("slug", flat=True)
        catalog_invalidate(listing=False, product_slugs=list(slugs))
