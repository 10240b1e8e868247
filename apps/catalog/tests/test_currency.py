"""Prices in several currencies: filters and price orderings compare one currency at a time."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.catalog.selectors import ProductFilters, product_list_queryset
from apps.catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

USD_PRICES = {"dollar-lamp": "1.00", "dollar-shoe": "12.50", "dollar-coat": "100.00"}


@pytest.fixture
def two_currencies(catalog):
    """The 15 EUR products (10.00-28.00) plus three priced in USD only."""
    for slug, price in USD_PRICES.items():
        product = ProductFactory(slug=slug, category=catalog.categories["books"])
        VariantFactory(product=product, price=Decimal(price), currency="USD")
    return catalog


def listed(query: str) -> list[tuple[str, str, str]]:
    response = APIClient().get(f"/api/v1/products/?page_size=100&{query}")
    assert response.status_code == 200, response.content
    return [(p["slug"], p["price"], p["currency"]) for p in response.json()["results"]]


def test_ordering_by_price_compares_the_default_currency_only(two_currencies, settings):
    assert settings.SHOP_CURRENCY == "EUR"
    rows = listed("ordering=price")

    assert {currency for _, _, currency in rows} == {"EUR"}
    assert [Decimal(price) for _, price, _ in rows] == sorted(Decimal(p) for _, p, _ in rows)
    assert len(rows) == 15


def test_the_currency_parameter_chooses_which_prices_are_compared(two_currencies):
    assert listed("ordering=-price&currency=usd") == [
        ("dollar-coat", "100.00", "USD"),
        ("dollar-shoe", "12.50", "USD"),
        ("dollar-lamp", "1.00", "USD"),
    ]
    newest_first = [slug for slug, _, _ in listed("min_price=11&currency=USD")]
    assert sorted(newest_first) == ["dollar-coat", "dollar-shoe"]


def test_price_filters_never_mix_currencies(two_currencies):
    eur = listed("min_price=11&max_price=13")
    usd = listed("min_price=11&max_price=13&currency=USD")

    assert {c for _, _, c in eur} == {"EUR"} and all(11 <= Decimal(p) <= 13 for _, p, _ in eur)
    assert [(slug, price) for slug, price, _ in usd] == [("dollar-shoe", "12.50")]


def test_a_list_without_price_filter_or_ordering_shows_every_currency(two_currencies):
    rows = listed("")
    assert {currency for _, _, currency in rows} == {"EUR", "USD"}
    assert len(rows) == 18
    assert listed("currency=GBP") == []


@pytest.mark.parametrize("value", ["EURO", "E1R", "€"])
def test_a_malformed_currency_is_a_400_envelope(two_currencies, value):
    response = APIClient().get("/api/v1/products/", {"currency": value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "currency" in response.json()["fields"]


@pytest.mark.parametrize(
    "filters",
    [
        ProductFilters(currency="EUR"),
        ProductFilters(currency="USD", in_stock=True),
        ProductFilters(currency="EUR", category="books"),
    ],
)
def test_price_order_within_a_currency_is_served_by_an_index(two_currencies, filters):
    queryset = product_list_queryset(filters).order_by("price", "id")[:24]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # In price order straight from a (…, currency, price, id) index: no sort step.
    assert re.search(r"Index Scan using product_\w*cur_price_idx", plan), plan
    assert "Sort" not in plan, plan
