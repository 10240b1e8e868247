"""The staff catalog write API: the importers' rules, all or nothing, fresh reads, fixed queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.tests.clients import client_for
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product, Variant

PRODUCTS = "/api/v1/admin/products/"
PRICES = "/api/v1/admin/prices/"


@pytest.fixture
def staff(transactional_db) -> APIClient:
    return client_for(UserFactory(is_staff=True))


def product(slug: str = "trail-shoe", variants: int = 2, price: str = "89.90", **extra) -> dict:
    return {
        "slug": slug,
        "name": "Trail shoe",
        "category": "shoes",
        "tags": ["outdoor", "new"],
        "variants": [
            {"sku": f"{slug.upper()}-{i}", "name": f"Size {i}", "price": price, "currency": "EUR"}
            for i in range(variants)
        ],
        **extra,
    }


def public(path: str) -> dict:
    response = APIClient().get(path)
    return {"status": response.status_code, **(response.json() if response.content else {})}


def test_a_new_product_is_created_with_its_variants_and_listed_at_once(staff):
    assert public("/api/v1/products/trail-shoe/")["status"] == 404  # cached as absent

    response = staff.post(PRODUCTS, product(), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["created"] is True
    assert response.json()["url"].endswith("/api/v1/products/trail-shoe/")
    detail = public("/api/v1/products/trail-shoe/")
    assert detail["status"] == 200 and detail["name"] == "Trail shoe"
    assert sorted(v["sku"] for v in detail["variants"]) == ["TRAIL-SHOE-0", "TRAIL-SHOE-1"]
    assert sorted(tag for tag in detail["tags"]) == ["new", "outdoor"]


def test_the_same_slug_again_updates_it_and_reads_show_the_new_price_at_once(staff):
    staff.post(PRODUCTS, product(), format="json")
    before = public("/api/v1/products/trail-shoe/")  # cached now

    response = staff.post(PRODUCTS, product(price="79.00", variants=3), format="json")

    assert response.status_code == 200 and response.json()["created"] is False
    after = public("/api/v1/products/trail-shoe/")
    assert {v["price"] for v in before["variants"]} == {"89.90"}
    assert {v["price"] for v in after["variants"]} == {"79.00"} and len(after["variants"]) == 3
    assert Product.objects.filter(slug="trail-shoe").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Not a slug!"}, "slug"),
        ({"category": "bad category"}, "category"),
        ({"tags": ["a|b"]}, "tags"),
        ({"variants": []}, "variants"),
        ({"variants": [{"sku": "X-1", "name": "One", "price": "abc"}]}, "variants[0].price"),
        ({"variants": [{"sku": "X-1", "name": "One", "price": "-1"}]}, "variants[0].price"),
        ({"variants": [{"sku": "X-1", "name": "One", "price": "1", "currency": "EURO"}]},
         "variants[0].currency"),
        ({"variants": [{"sku": "X-1", "name": "A", "price": "1"},
                       {"sku": "X-1", "name": "B", "price": "2"}]}, "variants[1].sku"),
    ],
)  # fmt: skip
def test_a_value_the_importer_refuses_is_a_400_naming_it_and_nothing_is_written(
    staff, change, field
):
    response = staff.post(PRODUCTS, {**product(), **change}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"], body
    assert not Product.objects.exists() and not Variant.objects.exists()


@pytest.mark.parametrize(("user", "status"), [(None, 401), ("buyer", 403)])
def test_only_staff_may_write(db, user, status):
    client = client_for(UserFactory() if user else None)

    assert client.post(PRODUCTS, product(), format="json").status_code == status
    assert (
        client.post(PRICES, {"prices": [{"sku": "A", "price": "1"}]}, format="json").status_code
        == status
    )
    assert not Product.objects.exists()


def test_a_products_write_costs_the_same_queries_for_one_variant_or_a_hundred(staff):
    def queries(slug: str, variants: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff.post(PRODUCTS, product(slug, variants), format="json")
        assert response.status_code == 201, response.content
        return len(captured)

    queries("warm-up", 1)  # the staff user's token, the category and tags are created once
    assert queries("one", 1) == queries("hundred", 100)


def test_prices_are_set_by_sku_and_shown_at_once(staff):
    staff.post(PRODUCTS, product(), format="json")
    public("/api/v1/products/trail-shoe/")

    lines = [{"sku": "TRAIL-SHOE-0", "price": "50.00"}, {"sku": "TRAIL-SHOE-1", "price": "60"}]
    response = staff.post(PRICES, {"prices": lines}, format="json")

    assert response.status_code == 200 and response.json() == {"prices": 2}
    detail = public("/api/v1/products/trail-shoe/")
    assert sorted(v["price"] for v in detail["variants"]) == ["50.00", "60.00"]


def test_an_unknown_sku_refuses_every_price_of_the_request(staff):
    staff.post(PRODUCTS, product(), format="json")
    lines = [{"sku": "TRAIL-SHOE-0", "price": "50.00"}, {"sku": "NOPE", "price": "1.00"}]

    response = staff.post(PRICES, {"prices": lines}, format="json")

    assert response.status_code == 400
    assert "prices[1].sku" in response.json()["fields"]
    assert str(Variant.objects.get(sku="TRAIL-SHOE-0").price) == "89.90"


def test_more_prices_than_one_request_may_carry_is_a_400(staff):
    lines = [{"sku": f"S-{i}", "price": "1"} for i in range(1001)]

    response = staff.post(PRICES, {"prices": lines}, format="json")

    assert response.status_code == 400 and "prices" in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"a string"',
        b'{"slug": "x"}',
        b'{"slug": "x", "name": "X", "category": "c", "variants": "abc"}',
        b'{"slug": "x", "name": "X", "category": "c", "variants": [1]}',
        b'{"slug": "x\\u0000", "name": "X", "category": "c", "variants": []}',
        b'{"slug": ["x"], "name": "X", "category": "c", "variants": []}',
    ],
)
def test_a_malformed_body_is_a_400_and_writes_nothing(staff, body):
    response = staff.post(PRODUCTS, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid", "parse_error")
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", None),
        (b'{"prices": "abc"}', "prices"),
        (b'{"prices": []}', "prices"),
        (b'{"prices": [{"sku": "TRAIL-SHOE-0"}]}', "prices"),
        (b'{"prices": [{"sku": "TRAIL-SHOE-0", "price": "abc"}]}', "prices[0].price"),
        (b'{"prices": [{"sku": "TRAIL-SHOE-0", "price": "-1"}]}', "prices[0].price"),
        (b'{"prices": [{"sku": "TRAIL-SHOE-0", "price": "1"}, {"sku": "TRAIL-SHOE-0", '
         b'"price": "2"}]}', "prices[1].sku"),
    ],
)  # fmt: skip
def test_a_malformed_price_list_is_a_400_and_changes_no_price(staff, body, field):
    staff.post(PRODUCTS, product(), format="json")

    response = staff.post(PRICES, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid", "parse_error")
    if field:
        assert field in response.json()["fields"], response.json()
    assert set(Variant.objects.values_list("price", flat=True)) == {Decimal("89.90")}
