"""Query budgets: exact counts that do not grow with page size or variant count; the gates bite."""

import nplusone.core.exceptions
import pytest
import zeal.errors
from cachalot.api import cachalot_disabled
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from perf.budgets import QUERY_BUDGETS


def count_queries(url: str) -> int:
    """Count the queries of a response rebuilt from the database (no cached layer answers)."""
    client = APIClient()
    with cachalot_disabled(), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response["X-Cache"] == "MISS"
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page_size", [1, 24, 100])
def test_product_list_query_count_is_the_same_for_every_page_size(catalog, page_size):
    assert (
        count_queries(f"/api/v1/products/?page_size={page_size}") == QUERY_BUDGETS["product-list"]
    )


@pytest.mark.parametrize("page_size", [1, 100])
def test_category_filtered_list_query_count_is_the_same_for_every_page_size(catalog, page_size):
    url = f"/api/v1/products/?page_size={page_size}&category=apparel"
    assert count_queries(url) == QUERY_BUDGETS["product-list-category"]


def test_product_list_with_every_filter_and_a_cursor_stays_in_budget(catalog):
    first = APIClient().get("/api/v1/products/?page_size=2&category=apparel&ordering=price").json()
    url = first["next"] + "&tag=sale&in_stock=true&q=shoe&min_price=1&max_price=100"
    assert count_queries(url) == QUERY_BUDGETS["product-list-category-and-tag"] <= 3


@pytest.mark.parametrize("variants", [1, 5])
def test_product_detail_query_count_does_not_depend_on_variants(catalog, variants):
    product = ProductFactory(slug=f"v{variants}", category=catalog.categories["books"])
    for _ in range(variants):
        VariantFactory(product=product)
    assert count_queries(f"/api/v1/products/v{variants}/") == QUERY_BUDGETS["product-detail"]


def test_categories_stay_within_two_queries(catalog):
    assert count_queries("/api/v1/categories/") == QUERY_BUDGETS["category-list"] <= 2


def test_budgets_are_within_the_issue_limits():
    assert QUERY_BUDGETS["product-list-category-and-tag"] <= 3
    assert QUERY_BUDGETS["product-detail"] <= 3


def test_nplusone_gate_fails_a_lazy_loop_over_products(catalog):
    with pytest.raises(nplusone.core.exceptions.NPlusOneError):
        [product.category.name for product in Product.objects.all()]


def test_zeal_gate_fails_repeated_gets_in_a_loop(catalog):
    with pytest.raises(zeal.errors.NPlusOneError):
        for slug in ("item-01", "item-02", "item-03"):
            Product.objects.get(slug=slug)


def test_query_budget_fails_when_a_lazy_loop_adds_queries(catalog, django_assert_num_queries):
    with (
        pytest.raises(pytest.fail.Exception),
        django_assert_num_queries(QUERY_BUDGETS["product-list"]),
    ):
        # Per-row lookups of .values() rows: invisible to the N+1 detectors, caught by the budget.
        for product in Product.objects.filter(is_active=True).values("category_id"):
            list(Product.objects.filter(category_id=product["category_id"]).values("id")[:1])
