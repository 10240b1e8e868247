"""The perf gate's deliberate regressions: off by default, and each really makes the list worse."""

import time

import pytest
import zeal.errors
from cachalot.api import cachalot_disabled
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from zeal import zeal_ignore

from apps.catalog.regressions import SLEEP_SECONDS
from perf.budgets import QUERY_BUDGETS

URL = "/api/v1/products/?page_size=10"


def uncached_list() -> tuple[int, float]:
    """GET the list with no cache layer answering; return its query count and seconds."""
    started = time.perf_counter()
    with cachalot_disabled(), CaptureQueriesContext(connection) as ctx:
        response = APIClient().get(URL)
    assert response.status_code == 200 and response["X-Cache"] == "MISS"
    assert len(response.json()["results"]) == 10
    return len(ctx.captured_queries), time.perf_counter() - started


def test_no_regression_is_injected_by_default(catalog, settings):
    assert settings.PERF_INJECT_REGRESSION == ""
    assert uncached_list()[0] == QUERY_BUDGETS["product-list"]


def test_the_nplusone_regression_adds_one_query_per_listed_product(catalog, settings):
    settings.PERF_INJECT_REGRESSION = "nplusone"
    # cachalot_disabled() restores nothing when an exception leaves it: raise inside it only.
    with cachalot_disabled(), pytest.raises(zeal.errors.NPlusOneError):
        APIClient().get(URL)  # the suite's detector catches it: proof it is the real thing
    with zeal_ignore():  # the perf gate runs without detectors: count what it would cost there
        assert uncached_list()[0] == QUERY_BUDGETS["product-list"] + 10


def test_the_sleep_regression_makes_an_uncached_list_slower_by_its_sleep(catalog, settings):
    settings.PERF_INJECT_REGRESSION = "sleep"
    assert uncached_list()[1] >= SLEEP_SECONDS


def test_an_unknown_regression_name_is_a_configuration_error(catalog, settings):
    settings.PERF_INJECT_REGRESSION = "typo"
    with cachalot_disabled(), pytest.raises(ImproperlyConfigured):
        APIClient().get(URL)
