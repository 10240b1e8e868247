"""The OpenAPI document as a client developer reads it: every answer documented, every operation
and parameter described, patterns that say exactly what the server takes."""

import re

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

METHODS = {"get", "post", "patch", "put", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def view_class(path: str):
    concrete = re.sub(r"\{[^}]+\}", "1", path).replace("{number}", "SF-1")
    return resolve(concrete).func.view_class


def test_every_operation_that_needs_a_user_documents_401(schema):
    secured = [(p, m, op) for p, m, op in operations(schema) if op.get("security") != [{}]]
    needs_user = [(p, m) for p, m, op in secured if {"tokenAuth": []} in op.get("security", [])]
    assert len(needs_user) == 16  # cart, checkout, orders; the staff jobs and catalog writes
    for path, method, operation in secured:
        if {"tokenAuth": []} in operation.get("security", []):
            assert "401" in operation["responses"], (path, method)


def test_every_throttled_operation_documents_429_with_the_envelope(schema):
    throttled = {"/api/v1/auth/register/", "/api/v1/auth/token/", "/api/v1/checkout/"}
    for path in throttled:
        answer = schema["paths"][path]["post"]["responses"]["429"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorSchema")


def test_every_operation_has_a_summary_and_no_implementation_notes(schema):
    for path, method, operation in operations(schema):
        assert operation.get("summary"), (path, method)
        text = operation.get("description", "")
        for internal in ("URLconf", "cached_response", "ConditionalGetMiddleware", "``"):
            assert internal not in text, (path, method, text)


def test_every_parameter_and_error_is_described(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (path, method, parameter["name"])
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer.get("description"), (path, method, status)


def test_request_bodies_carry_real_examples_not_placeholders(schema):
    for path, method, operation in operations(schema):
        body = operation.get("requestBody")
        if not body or (method == "patch" and "quantity" not in str(body)):
            continue
        if "multipart/form-data" in body["content"]:  # a file upload: no example file inline
            continue
        examples = body["content"]["application/json"].get("examples", {})
        assert examples, (path, method)
        assert '"string"' not in str(examples) and "'string'" not in str(examples)


def test_the_cart_line_quantity_is_required_when_patching(schema):
    body = schema["paths"]["/api/v1/cart/lines/{line_id}/"]["patch"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][ref]["required"] == ["quantity"]


@pytest.mark.django_db
def test_blank_or_a_pattern_is_one_pattern_the_server_follows(schema):
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    }
    currency = parameters["currency"]["pattern"]
    assert "oneOf" not in parameters["currency"]
    for value, accepted in (("", True), ("usd", True), ("US", False), ("0", False)):
        assert bool(re.fullmatch(currency.strip("^$"), value)) is accepted
        status = APIClient().get("/api/v1/products/", {"currency": value}).status_code
        assert (status == 200) is accepted, (value, status)


@pytest.mark.django_db
def test_redoc_and_swagger_ui_are_served(client):
    assert client.get("/api/docs/").status_code == 200
    # Swagger UI's start-up script is a file of its own (no inline script under the CSP).
    for url in ("/api/redoc/", "/api/docs/?script="):
        response = client.get(url)
        assert response.status_code == 200 and b"/api/schema/" in response.content, url


def test_the_named_status_enums_are_the_models_own():
    from django.conf import settings

    from apps.jobs.models import ImportJob
    from apps.orders.models import Order

    names = settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
    assert names["OrderStatusEnum"] == Order.Status.values
    assert names["JobStatusEnum"] == ImportJob.Status.values
