"""Perf-only URLconf: production routes plus a hello-world ceiling, the uncached list, a baseline.

Used by ``perf/settings_perf.py`` and the in-process benchmarks; ``config.urls`` (production)
never includes it (``benchmarks/test_perf_urls.py`` keeps it that way).
"""

from cachalot.api import cachalot_disabled
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.catalog.views import ProductListView
from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as prod_urls
from perf.baseline import BaselineProductViewSet

HELLO_BODY = b'{"hello":"world"}'


def hello(request: HttpRequest) -> HttpResponse:
    """Answer with a fixed tiny JSON body: the ceiling of Django plus the app server."""
    return HttpResponse(HELLO_BODY, content_type="application/json")


_product_list = ProductListView.as_view()


def uncached_products(request: HttpRequest) -> HttpResponse:
    """Our product list with every cache layer off: the view alone, cachalot disabled."""
    with cachalot_disabled():
        response = _product_list(request)
        response.render()
    return response


baseline_router = SimpleRouter()
baseline_router.register("products", BaselineProductViewSet, basename="baseline-product")

urlpatterns = [
    *prod_urls,
    path("perf/hello/", hello, name="perf-hello"),
    path("perf/uncached/products/", uncached_products, name="perf-uncached-products"),
    path("perf/baseline/", include(baseline_router.urls)),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
