"""The deliberate regressions: off by default, and each really makes the list worse."""

import time
from decimal import Decimal

import pytest
import zeal.errors
from cachalot.api import cachalot_disabled
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from zeal import zeal_ignore

from apps.catalog.tests.factories import ProductFactory, VariantFactory
from perf.budgets import QUERY_BUDGETS
from perf.regressions import SLEEP_SECONDS, WRITE_SLEEP_SECONDS

URL = "/api/v1/products/?page_size=10"


@pytest.fixture
def listed(db) -> None:
    """12 listed products: more than a page of 10, so the N+1 has rows to multiply."""
    for i in range(12):
        VariantFactory(product=ProductFactory(slug=f"listed-{i:02d}"), price=Decimal(10 + i))


@pytest.fixture(autouse=True)
def injector(settings):
    """Install the middleware as ``perf/settings_perf.py`` does, with nothing injected."""
    settings.MIDDLEWARE = ["perf.regressions.regression_injected", *settings.MIDDLEWARE]
    settings.PERF_INJECT_REGRESSION = ""


def uncached_list(url: str = URL) -> tuple[int, float]:
    """GET a list no cache layer holds yet; return its query count and seconds."""
    started = time.perf_counter()
    with cachalot_disabled(), CaptureQueriesContext(connection) as ctx:
        response = APIClient().get(url)
    assert response.status_code == 200 and response["X-Cache"] == "MISS"
    assert len(response.json()["results"]) == 10
    return len(ctx.captured_queries), time.perf_counter() - started


def test_no_regression_is_injected_by_default(listed):
    assert uncached_list()[0] == QUERY_BUDGETS["product-list"]


def test_the_nplusone_regression_adds_one_query_per_listed_product(listed, settings):
    settings.PERF_INJECT_REGRESSION = "nplusone"
    # cachalot_disabled() restores nothing when an exception leaves it: raise inside it only.
    with cachalot_disabled(), pytest.raises(zeal.errors.NPlusOneError):
        APIClient().get(URL)  # the suite's detector catches it: proof it is the real thing
    # The response cache kept that page: ask for another one. The perf gate runs without
    # detectors: count what the regression costs there.
    with zeal_ignore():
        assert uncached_list(URL + "&ordering=-price")[0] == QUERY_BUDGETS["product-list"] + 10


def test_the_sleep_regression_makes_an_uncached_list_slower_by_its_sleep(listed, settings):
    settings.PERF_INJECT_REGRESSION = "sleep"
    assert uncached_list()[1] >= SLEEP_SECONDS


def test_an_unknown_regression_name_is_a_configuration_error(listed, settings):
    settings.PERF_INJECT_REGRESSION = "typo"
    with cachalot_disabled(), pytest.raises(ImproperlyConfigured):
        APIClient().get(URL)


def test_a_cached_list_gets_no_injected_cost(listed, settings):
    settings.PERF_INJECT_REGRESSION = "nplusone"
    with zeal_ignore():
        APIClient().get(URL)  # fills the response cache
    with CaptureQueriesContext(connection) as ctx:
        assert APIClient().get(URL)["X-Cache"] != "MISS"
    assert len(ctx.captured_queries) == 0


def test_the_write_regression_slows_checkout_and_cart_adds_only(listed, settings):
    from apps.orders.tests.shops import api_for, shop_build

    settings.PERF_INJECT_REGRESSION = "write-sleep"
    shop = shop_build(skus=2, buyers=1)
    api = api_for(shop.users[0])
    started = time.perf_counter()
    assert (
        api.post("/api/v1/cart/lines/", {"sku": shop.sku(0), "quantity": 1}, "json").status_code
        == 201
    )
    assert time.perf_counter() - started >= WRITE_SLEEP_SECONDS
    started = time.perf_counter()
    assert api.get("/api/v1/cart/").status_code == 200
    assert time.perf_counter() - started < WRITE_SLEEP_SECONDS
