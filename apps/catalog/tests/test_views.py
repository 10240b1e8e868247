import pytest
from rest_framework.test import APIClient

from apps.catalog.models import Product, Variant

LIST = "/api/v1/products/"


@pytest.fixture
def client():
    return APIClient()


def test_product_list_is_paginated_with_links(catalog, client):
    response = client.get(LIST, {"page_size": 5, "category": "apparel", "utm_source": "x"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 5 and body["previous"] is None
    second = client.get(body["next"]).json()
    assert second["previous"] and len(second["results"]) == 5
    assert not {r["slug"] for r in body["results"]} & {r["slug"] for r in second["results"]}
    assert "category=apparel" in body["next"]
    back = client.get(second["previous"]).json()
    assert back["results"] == body["results"]


def test_default_page_size_is_24_and_large_sizes_are_clamped_to_100(db, catalog, client):
    from apps.catalog.tests.factories import ProductFactory, VariantFactory

    for i in range(110):
        VariantFactory(
            product=ProductFactory(category=catalog.categories["books"]), sku=f"BULK-{i}"
        )
    assert len(client.get(LIST).json()["results"]) == 24
    assert len(client.get(LIST, {"page_size": 1000}).json()["results"]) == 100
    huge = client.get(LIST, {"page_size": "9" * 30})
    assert huge.status_code == 200 and len(huge.json()["results"]) == 100


def test_product_detail_contract_fields(catalog, client):
    body = client.get("/api/v1/products/item-02/").json()
    assert {"slug", "name", "category", "price", "currency", "in_stock", "tags"} <= set(body)
    assert {"description", "variants", "attributes"} <= set(body)
    assert set(body["variants"][0]) >= {"sku", "name", "price", "available"}


def test_unknown_product_is_a_404_envelope(catalog, client):
    response = client.get("/api/v1/products/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_inactive_product_is_not_found(catalog, client):
    assert client.get("/api/v1/products/retired/").status_code == 404


def test_categories_endpoint(catalog, client):
    body = client.get("/api/v1/categories/").json()
    assert {c["slug"] for c in body} == {"apparel", "shoes", "running", "books"}


@pytest.mark.parametrize("url", [LIST, "/api/v1/products/item-01/", "/api/v1/categories/"])
def test_catalog_get_sends_etag_and_cache_control_and_honours_if_none_match(catalog, client, url):
    first = client.get(url)
    assert first.status_code == 200
    assert "public" in first["Cache-Control"] and first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_etag_changes_when_the_body_changes(catalog, client, django_capture_on_commit_callbacks):
    before = client.get("/api/v1/products/item-01/")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        for variant in Variant.objects.filter(product__slug="item-01"):
            variant.price = 99
            variant.save()
    after = client.get("/api/v1/products/item-01/")
    assert after["ETag"] != before and after.json()["price"] == "99.00"
    assert client.get("/api/v1/products/item-01/", HTTP_IF_NONE_MATCH=before).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "1e999"}, "max_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "NaN"}, "min_price"),
        ({"max_price": "1.234"}, "max_price"),
        ({"page_size": "-1"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"ordering": "drop"}, "ordering"),
        ({"ordering": "price; DROP TABLE catalog_product"}, "ordering"),
        ({"cursor": "zzz"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),
        ({"cursor": "WyJwcmljZSIsMSwiYWJjIiwxXQ"}, "cursor"),
        ({"cursor": "x" * 600}, "cursor"),
        (
            {"ordering": "price", "cursor": "WyJwcmljZSIsIDEsICIxZTk5OTk5OSIsIDFd"},
            "cursor",
        ),  # numeric overflow in PostgreSQL
        (
            {"ordering": "price", "cursor": "WyJwcmljZSIsIDEsICIxZS05OTk5OTkiLCAxXQ"},
            "cursor",
        ),  # numeric underflow in PostgreSQL
        ({"in_stock": "maybe"}, "in_stock"),
        ({"q": "x" * 1_000}, "q"),  # over CATALOG_MAX_QUERY_LENGTH, under the URL limit
        ({"q": "nul\x00byte"}, "q"),
        ({"category": "not a slug!"}, "category"),
        ({"tag": "x" * 500}, "tag"),
    ],
)
def test_malformed_query_values_get_a_400_envelope(catalog, client, params, field):
    response = client.get(LIST, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["detail"]
    assert field in body["fields"]


def test_a_cursor_keeps_its_own_ordering_whatever_ordering_is_beside_it(catalog, client):
    next_url = client.get(LIST, {"ordering": "price", "page_size": 2}).json()["next"]
    as_issued = client.get(next_url).json()
    tampered = client.get(next_url.replace("ordering=price", "ordering=name")).json()

    assert [p["slug"] for p in tampered["results"]] == [p["slug"] for p in as_issued["results"]]


def test_empty_price_and_stock_filters_mean_no_filter(catalog, client):
    body = client.get(LIST, {"min_price": "", "max_price": "", "in_stock": ""}).json()
    assert len(body["results"]) == 15


@pytest.mark.parametrize(
    ("name", "value"),
    [("in_stock", "1"), ("in_stock", "yes"), ("min_price", "1."), ("min_price", " 5"),
     ("max_price", "-1"), ("cursor", "not a cursor"), ("currency", " EU")],
)  # fmt: skip
def test_values_outside_the_documented_pattern_are_400s(catalog, client, name, value):
    response = client.get(LIST, {name: value})
    assert response.status_code == 400 and name in response.json()["fields"]


def test_search_without_lexemes_returns_an_empty_list_not_an_error(catalog, client):
    response = client.get(LIST, {"q": "!!! &&& ((("})
    assert response.status_code == 200 and response.json()["results"] == []


def test_empty_filter_values_mean_no_filter(catalog, client):
    body = client.get(LIST, {"q": "", "category": "", "tag": "", "cursor": ""}).json()
    assert len(body["results"]) == 15


def test_write_methods_get_a_405_envelope(catalog, client):
    response = client.post(LIST, {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Product.objects.count() == 17


@pytest.mark.parametrize("slug", ["%00", "a%00b", "%C3%A9t%C3%A9", "a%20b", "a.b"])
def test_a_slug_that_cannot_exist_is_a_404_envelope_before_any_query(
    catalog, client, slug, django_assert_num_queries
):
    # A NUL byte reached PostgreSQL: "cannot contain NUL", a 500.
    with django_assert_num_queries(0):
        response = client.get(f"/api/v1/products/{slug}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
