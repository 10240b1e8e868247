"""Deliberate regressions, switched on by ``PERF_INJECT_REGRESSION`` in the perf settings only.

They exist so that each perf gate can be shown to fail (``make perf-gate-regression``,
``make perf-regressions``): a gate that never failed proves nothing. The middleware is installed
by ``perf/settings_perf.py``; the product's settings and code know nothing of it.

- ``sleep``: 100 ms more per product list built without a cache (the production URL's misses and
  the perf-only uncached route);
- ``nplusone``: one query per listed product on those same lists;
- ``write-sleep``: 25 ms more per checkout and per add-to-cart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from apps.catalog.models import Product

SLEEP_SECONDS = 0.1
WRITE_SLEEP_SECONDS = 0.025
PRODUCT_LIST = "/api/v1/products/"
UNCACHED_LIST = "/perf/uncached/products/"
WRITES = frozenset({"/api/v1/checkout/", "/api/v1/cart/lines/"})
KINDS = ("sleep", "nplusone", "write-sleep")


def _rows_looked_up(response: HttpResponse) -> None:
    """The classic N+1: one lookup per listed row instead of a join."""
    for row in orjson.loads(response.content)["results"]:
        Product.objects.only("name").get(slug=row["slug"])


def _built_list(request: HttpRequest, response: HttpResponse) -> bool:
    if request.path == UNCACHED_LIST:
        return True
    return request.path == PRODUCT_LIST and response.get("X-Cache") == "MISS"


def regression_injected(get_response: Callable[[HttpRequest], HttpResponse]):
    """Make the paths the setting names slower in the way it names."""
    kind = settings.PERF_INJECT_REGRESSION
    if kind and kind not in KINDS:
        raise ImproperlyConfigured(f"PERF_INJECT_REGRESSION={kind!r}: use one of {KINDS}")

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        # Read per request so that a test can switch it with the settings fixture.
        kind = settings.PERF_INJECT_REGRESSION
        if not kind:
            return response
        if kind == "write-sleep":
            if request.method == "POST" and request.path in WRITES:
                time.sleep(WRITE_SLEEP_SECONDS)
            return response
        if not _built_list(request, response):
            return response
        if kind == "sleep":
            time.sleep(SLEEP_SECONDS)
        elif kind == "nplusone":
            _rows_looked_up(response)
        else:
            raise ImproperlyConfigured(f"PERF_INJECT_REGRESSION={kind!r}: use one of {KINDS}")
        return response

    return middleware
