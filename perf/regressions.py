"""Deliberate regressions, switched on by ``PERF_INJECT_REGRESSION`` in the perf settings only.

They exist so that each perf gate can be shown to fail (``make perf-gate-regression``): a gate
that never failed proves nothing. The middleware is installed by ``perf/settings_perf.py``; the
product's settings and code know nothing of it.
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
PRODUCT_LIST = "/api/v1/products/"
KINDS = ("sleep", "nplusone")


def _rows_looked_up(response: HttpResponse) -> None:
    """The classic N+1: one lookup per listed row instead of a join."""
    for row in orjson.loads(response.content)["results"]:
        Product.objects.only("name").get(slug=row["slug"])


def regression_injected(get_response: Callable[[HttpRequest], HttpResponse]):
    """Make each product list answered without a cache slower in the way the setting names."""
    kind = settings.PERF_INJECT_REGRESSION
    if kind and kind not in KINDS:
        raise ImproperlyConfigured(f"PERF_INJECT_REGRESSION={kind!r}: use one of {KINDS}")

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        # Read per request so that a test can switch it with the settings fixture.
        kind = settings.PERF_INJECT_REGRESSION
        if not kind or request.path != PRODUCT_LIST or response.get("X-Cache") != "MISS":
            return response
        if kind == "sleep":
            time.sleep(SLEEP_SECONDS)
        elif kind == "nplusone":
            _rows_looked_up(response)
        else:
            raise ImproperlyConfigured(f"PERF_INJECT_REGRESSION={kind!r}: use one of {KINDS}")
        return response

    return middleware
