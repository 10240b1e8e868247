"""The OpenAPI document for cart, checkout and orders: every path and method, the checkout's
header and responses, and generation without drf-spectacular warnings or errors."""

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

HTTP_METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}
OPERATIONS = {
    "/api/v1/cart/": {"get"},
    "/api/v1/cart/lines/": {"post"},
    "/api/v1/cart/lines/{line_id}/": {"patch", "delete"},
    "/api/v1/checkout/": {"post"},
    "/api/v1/orders/": {"get"},
    "/api/v1/orders/{number}/": {"get"},
    "/api/v1/orders/{number}/cancel/": {"post"},
}
ORDER_FIELDS = {"number", "status", "lines", "total", "currency", "created_at", "expires_at"}
CART_AND_ORDERS = [
    path("api/v1/", include("apps.cart.urls")),
    path("api/v1/", include("apps.orders.urls")),
]


@pytest.fixture(scope="module")
def served(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def generate(patterns) -> tuple[dict, list[str]]:
    """Generate a schema for ``patterns``; return it with every warning and error it raised."""
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, problems


def body_schema(schema: dict, response: dict) -> dict:
    """Follow a response's JSON ``$ref`` to its component."""
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_served_schema_lists_every_cart_checkout_and_orders_operation(served):
    found = {
        url: set(item) & HTTP_METHODS
        for url, item in served["paths"].items()
        if url.startswith(("/api/v1/cart", "/api/v1/checkout", "/api/v1/orders"))
    }

    assert found == OPERATIONS


def test_every_operation_needs_a_token_and_is_tagged(served):
    for url, methods in OPERATIONS.items():
        for method in methods:
            operation = served["paths"][url][method]
            assert {"tokenAuth": []} in operation["security"], (url, method)
            assert {} not in operation["security"], (url, method)  # no anonymous access
            assert operation["tags"][0] in {"cart", "checkout", "orders"}


def test_the_checkout_documents_the_idempotency_key_header_and_its_responses(served):
    checkout = served["paths"]["/api/v1/checkout/"]["post"]
    headers = [p for p in checkout["parameters"] if p["in"] == "header"]

    assert [(p["name"], p["required"]) for p in headers] == [("Idempotency-Key", True)]
    assert {"201", "202", "402", "409", "422"} <= set(checkout["responses"])
    assert {"400", "404", "429"} <= set(checkout["responses"])
    responses = checkout["responses"]
    order = body_schema(served, responses["201"])
    assert set(order["properties"]) == ORDER_FIELDS
    assert set(body_schema(served, responses["202"])["properties"]) == ORDER_FIELDS
    assert set(body_schema(served, responses["402"])["properties"]) == {"code", "detail", "order"}
    assert set(body_schema(served, responses["409"])["properties"]) == {"code", "detail", "items"}
    assert set(body_schema(served, responses["422"])["properties"]) >= {"code", "detail"}


def test_the_documented_shapes_name_the_contract_fields(served):
    schemas = served["components"]["schemas"]
    cart = body_schema(served, served["paths"]["/api/v1/cart/"]["get"]["responses"]["200"])
    page = body_schema(served, served["paths"]["/api/v1/orders/"]["get"]["responses"]["200"])
    detail = served["paths"]["/api/v1/orders/{number}/"]["get"]["responses"]["200"]
    short = body_schema(served, served["paths"]["/api/v1/checkout/"]["post"]["responses"]["409"])

    def items_of(component: dict, field: str) -> set[str]:
        ref = component["properties"][field]["items"]["$ref"]
        return set(schemas[ref.rsplit("/", 1)[1]]["properties"])

    assert set(cart["properties"]) == {"lines", "total", "currency"}
    assert items_of(cart, "lines") == {"id", "sku", "quantity", "unit_price", "line_total"}
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert items_of(page, "results") == ORDER_FIELDS
    assert set(body_schema(served, detail)["properties"]) == ORDER_FIELDS
    assert items_of(body_schema(served, detail), "lines") == {
        "sku",
        "quantity",
        "unit_price",
        "line_total",
    }
    assert items_of(short, "items") == {"sku", "requested", "available"}


def test_the_order_list_documents_its_cursor_and_page_size(served):
    params = {p["name"] for p in served["paths"]["/api/v1/orders/"]["get"]["parameters"]}

    assert {"cursor", "page_size"} <= params


def test_cart_and_orders_generate_a_valid_schema_without_warnings_or_errors():
    schema, problems = generate(CART_AND_ORDERS)

    validate_schema(schema)
    assert problems == []
    assert set(schema["paths"]) == set(OPERATIONS)


class Undocumented(APIView):
    def get(self, request):
        return Response({})


def test_the_warning_gate_catches_an_undocumented_view():
    _, problems = generate([path("undocumented/", Undocumented.as_view())])

    assert problems
