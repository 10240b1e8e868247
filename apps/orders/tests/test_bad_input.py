"""The issue's bad-input sweep: every malformed or foreign request gets its documented 4xx
envelope, never a 500, and leaves stock, orders, ledger, keys and carts exactly as they were."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from apps.catalog.models import Variant
from apps.orders.services import LineRequest, order_cancel, order_place
from apps.orders.tests.shops import Shop, api_for
from apps.orders.throttles import CheckoutThrottle

SNAPSHOT_TABLES = (
    "inventory_stock",
    "inventory_stockmovement",
    "orders_order",
    "orders_orderline",
    "orders_idempotencykey",
    "cart_cart",
    "cart_cartline",
    "catalog_product",
)
LINES = "/api/v1/cart/lines/"
CHECKOUT = "/api/v1/checkout/"
FRESH = object()  # a new, valid Idempotency-Key for each request


@dataclass(frozen=True)
class World:
    shop: Shop
    my_line: int
    their_line: int
    their_order: str
    my_cancelled: str


@dataclass(frozen=True)
class Case:
    method: str
    url: str  # may name {my_line}, {their_line}, {their_order}, {my_cancelled}
    body: Any  # a JSON-able value, raw bytes, or None for no body
    status: int
    code: str
    key: Any = FRESH  # Idempotency-Key header for the checkout: FRESH, None (absent) or a str
    user: int | None = 0  # index into shop.users; None is anonymous
    content_type: str = "application/json"


def add(quantity: Any, sku: str = "SKU-05") -> dict:
    return {"sku": sku, "quantity": quantity}


def buy(*lines: tuple[str, Any]) -> dict:
    return {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}


DEEP = b"[" * 100_000
NESTED_VALUE = b'{"sku": "SKU-05", "quantity": ' + b"[" * 500 + b"]" * 500 + b"}"
NESTED_LINES = b'{"lines": ' + b"[" * 500 + b"]" * 500 + b"}"
BAD_QUANTITIES = {
    "zero": 0,
    "negative": -1,
    "above-limit": settings.CART_MAX_LINE_QUANTITY + 1,
    "huge": 10**30,
    "float": 1.5,
    "string": "2",
    "true": True,
    "null": None,
}

CASES: dict[str, Case] = {
    **{
        f"add-quantity-{name}": Case("post", LINES, add(value), 400, "invalid")
        for name, value in BAD_QUANTITIES.items()
    },
    "add-quantity-missing": Case("post", LINES, {"sku": "SKU-05"}, 400, "invalid"),
    "add-past-the-limit-on-an-existing-line": Case(  # the world's line holds 60
        "post", LINES, add(settings.CART_MAX_LINE_QUANTITY - 59, "SKU-00"), 400, "quantity_limit"
    ),
    "add-unknown-sku": Case("post", LINES, add(1, "NO-SUCH-SKU"), 404, "unknown_sku"),
    "add-inactive-sku": Case("post", LINES, add(1, "SKU-11"), 404, "unknown_sku"),
    "add-sku-65-chars": Case("post", LINES, add(1, "S" * 65), 400, "invalid"),
    "add-sku-nul": Case("post", LINES, add(1, "SKU\x0005"), 400, "invalid"),
    "add-sku-list": Case("post", LINES, add(1, ["SKU-05"]), 400, "invalid"),
    "add-not-json": Case("post", LINES, b"sku=SKU-05&quantity=1", 400, "parse_error"),
    "add-not-utf8": Case("post", LINES, b'{"sku": "\xff"}', 400, "parse_error"),
    "add-json-list": Case("post", LINES, [add(1)], 400, "invalid"),
    "add-json-string": Case("post", LINES, "SKU-05", 400, "invalid"),
    "add-deeply-nested": Case("post", LINES, DEEP, 400, "parse_error"),
    "add-nested-value": Case("post", LINES, NESTED_VALUE, 400, "invalid"),
    "add-form-encoded": Case(
        "post",
        LINES,
        b"sku=SKU-05&quantity=1",
        415,
        "unsupported_media_type",
        content_type="application/x-www-form-urlencoded",
    ),
    "add-anonymous": Case("post", LINES, add(1), 401, "not_authenticated", user=None),
    **{
        f"patch-quantity-{name}": Case(
            "patch", LINES + "{my_line}/", {"quantity": value}, 400, "invalid"
        )
        for name, value in BAD_QUANTITIES.items()
    },
    "patch-their-line": Case("patch", LINES + "{their_line}/", {"quantity": 1}, 404, "not_found"),
    "patch-unknown-line": Case("patch", LINES + "999999999999/", {"quantity": 1}, 404, "not_found"),
    "patch-line-id-too-big": Case(
        "patch", LINES + "9" * 30 + "/", {"quantity": 1}, 404, "not_found"
    ),
    "patch-not-json": Case("patch", LINES + "{my_line}/", b"quantity=1", 400, "parse_error"),
    "patch-json-list": Case("patch", LINES + "{my_line}/", [1], 400, "invalid"),
    "delete-their-line": Case("delete", LINES + "{their_line}/", None, 404, "not_found"),
    "delete-anonymous": Case(
        "delete", LINES + "{my_line}/", None, 401, "not_authenticated", user=None
    ),
    "checkout-key-missing": Case(
        "post", CHECKOUT, buy(("SKU-05", 1)), 400, "idempotency_key_required", key=None
    ),
    **{
        f"checkout-key-{name}": Case(
            "post", CHECKOUT, buy(("SKU-05", 1)), 400, "idempotency_key_required", key=key
        )
        for name, key in {
            "empty": "",
            "blank": "   ",
            "65-chars": "k" * 65,
            "tab": "a\tb",
            "nul": "a\x00b",
            "non-ascii": "cl\u00e9",
        }.items()
    },
    **{
        f"checkout-quantity-{name}": Case("post", CHECKOUT, buy(("SKU-05", value)), 400, "invalid")
        for name, value in BAD_QUANTITIES.items()
    },
    "checkout-unknown-sku": Case(
        "post", CHECKOUT, buy(("SKU-05", 1), ("NO-SUCH-SKU", 1)), 404, "unknown_sku"
    ),
    "checkout-sku-nul": Case("post", CHECKOUT, buy(("SKU\x0005", 1)), 400, "invalid"),
    "checkout-inactive-sku": Case("post", CHECKOUT, buy(("SKU-11", 1)), 404, "unknown_sku"),
    "checkout-duplicate-skus": Case(
        "post", CHECKOUT, buy(("SKU-05", 1), ("SKU-06", 1), ("SKU-05", 2)), 400, "invalid"
    ),
    "checkout-no-lines": Case("post", CHECKOUT, {"lines": []}, 400, "invalid"),
    "checkout-lines-null": Case("post", CHECKOUT, {"lines": None}, 400, "invalid"),
    "checkout-lines-not-a-list": Case("post", CHECKOUT, {"lines": "SKU-05"}, 400, "invalid"),
    "checkout-line-not-an-object": Case("post", CHECKOUT, {"lines": [1]}, 400, "invalid"),
    "checkout-too-many-lines": Case(
        "post",
        CHECKOUT,
        buy(*((f"SKU-{i:03d}", 1) for i in range(settings.CART_MAX_LINES + 1))),
        400,
        "invalid",
    ),
    "checkout-empty-cart": Case("post", CHECKOUT, {}, 400, "empty_cart", user=2),
    "checkout-not-enough-stock": Case(
        "post", CHECKOUT, buy(("SKU-05", 1), ("SKU-06", 11)), 409, "insufficient_stock"
    ),
    "checkout-key-reused": Case(
        "post", CHECKOUT, buy(("SKU-03", 2)), 422, "idempotency_key_reused", key="used"
    ),
    "checkout-not-json": Case("post", CHECKOUT, b"lines=SKU-05", 400, "parse_error"),
    "checkout-json-list": Case("post", CHECKOUT, [buy(("SKU-05", 1))], 400, "invalid"),
    "checkout-deeply-nested": Case("post", CHECKOUT, DEEP, 400, "parse_error"),
    "checkout-nested-lines": Case("post", CHECKOUT, NESTED_LINES, 400, "invalid"),
    "checkout-anonymous": Case(
        "post", CHECKOUT, buy(("SKU-05", 1)), 401, "not_authenticated", user=None
    ),
    "order-theirs": Case("get", "/api/v1/orders/{their_order}/", None, 404, "not_found"),
    "order-unknown": Case("get", "/api/v1/orders/0000000000ZZ/", None, 404, "not_found"),
    "order-number-300-chars": Case(
        "get", "/api/v1/orders/" + "A" * 300 + "/", None, 404, "not_found"
    ),
    "order-number-nul": Case("get", "/api/v1/orders/%00/", None, 404, "not_found"),
    "cancel-theirs": Case("post", "/api/v1/orders/{their_order}/cancel/", None, 404, "not_found"),
    "cancel-twice": Case(
        "post", "/api/v1/orders/{my_cancelled}/cancel/", None, 409, "invalid_transition"
    ),
    "cancel-number-nul": Case("post", "/api/v1/orders/A%00B/cancel/", None, 404, "not_found"),
    "orders-cursor-garbage": Case("get", "/api/v1/orders/?cursor=%%%", None, 400, "invalid"),
    "orders-cursor-nul": Case("get", "/api/v1/orders/?cursor=%00", None, 400, "invalid"),
    "orders-page-size-zero": Case("get", "/api/v1/orders/?page_size=0", None, 400, "invalid"),
    "orders-page-size-text": Case("get", "/api/v1/orders/?page_size=ten", None, 400, "invalid"),
    "orders-anonymous": Case("get", "/api/v1/orders/", None, 401, "not_authenticated", user=None),
}


@pytest.fixture(autouse=True)
def no_checkout_throttle(monkeypatch):
    # The sweep sends dozens of checkouts as one user; throttling has its own tests.
    monkeypatch.setattr(CheckoutThrottle, "THROTTLE_RATES", {"checkout": "10000/min"})


@pytest.fixture
def world(shop) -> World:
    """users[0] has a cart (SKU-00 x 60, SKU-01), a paid order (key "used") and a cancelled one;
    users[1] has a cart line and a paid order; users[2] has nothing. SKU-11 is inactive."""
    me, them = shop.users[0], shop.users[1]
    api_for(me).post(LINES, add(60, "SKU-00"), format="json")
    api_for(me).post(LINES, add(1, "SKU-01"), format="json")
    api_for(them).post(LINES, add(2, "SKU-00"), format="json")
    order_place(me, key="used", lines=[LineRequest("SKU-03", 1)])
    cancelled = order_place(me, key="to-cancel", lines=[LineRequest("SKU-04", 1)])
    order_cancel(me, number=cancelled.body["number"])
    theirs = order_place(them, key="theirs", lines=[LineRequest("SKU-04", 2)])
    Variant.objects.filter(sku="SKU-11").update(is_active=False)
    lines = api_for(me).get("/api/v1/cart/").json()["lines"]
    their_lines = api_for(them).get("/api/v1/cart/").json()["lines"]
    return World(
        shop=shop,
        my_line=lines[0]["id"],
        their_line=their_lines[0]["id"],
        their_order=theirs.body["number"],
        my_cancelled=cancelled.body["number"],
    )


def send(world: World, name: str, case: Case):
    client = APIClient(raise_request_exception=False)  # a bug must show as a 500, not a raise
    if case.user is not None:
        user = world.shop.users[case.user]
        client.credentials(HTTP_AUTHORIZATION=f"Token token-{user.pk:034d}")
    extra = {}
    if case.url == CHECKOUT and case.key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = f"sweep-{name}" if case.key is FRESH else case.key
    url = case.url.format(
        my_line=world.my_line,
        their_line=world.their_line,
        their_order=world.their_order,
        my_cancelled=world.my_cancelled,
    )
    body = case.body if isinstance(case.body, bytes) or case.body is None else json.dumps(case.body)
    if body is None:
        return client.generic(case.method.upper(), url, **extra)
    return client.generic(case.method.upper(), url, body, content_type=case.content_type, **extra)


def snapshot() -> dict[str, list[tuple]]:
    rows = {}
    with connection.cursor() as cursor:
        for table in SNAPSHOT_TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # fixed table names, not input
            rows[table] = cursor.fetchall()
    return rows


def test_the_sweep_covers_the_issues_list():
    names = " ".join(CASES)
    for kind in ("zero", "negative", "huge", "float", "string", "true", "unknown-sku"):
        assert f"add-quantity-{kind}" in names or f"add-{kind}" in names
        assert f"checkout-quantity-{kind}" in names or f"checkout-{kind}" in names
    for must in (
        "checkout-duplicate-skus",
        "checkout-key-missing",
        "checkout-key-65-chars",
        "patch-their-line",
        "delete-their-line",
        "order-theirs",
        "cancel-theirs",
        "checkout-not-json",
        "checkout-json-list",
        "checkout-deeply-nested",
    ):
        assert must in CASES


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_its_documented_4xx_envelope(world, name):
    case = CASES[name]

    response = send(world, name, case)

    assert response.status_code == case.status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == case.code
    assert isinstance(body["detail"], str) and body["detail"]
    if case.code == "invalid":
        assert body["fields"] and all(isinstance(m, list) for m in body["fields"].values())
    if case.code == "insufficient_stock":
        assert body["items"] == [{"sku": "SKU-06", "requested": 11, "available": 10}]


def test_the_whole_sweep_changes_nothing_in_the_database_and_never_answers_500(world):
    before = snapshot()
    assert all(before.values()), "every snapshot table needs rows for the comparison to mean much"

    answers = {name: send(world, name, case).status_code for name, case in CASES.items()}

    assert snapshot() == before
    assert {name: status for name, status in answers.items() if status >= 500} == {}
    assert answers == {name: case.status for name, case in CASES.items()}


def test_the_snapshot_notices_a_one_unit_change(world):
    before = snapshot()

    send(world, "valid", Case("patch", LINES + "{my_line}/", {"quantity": 59}, 200, ""))

    assert snapshot() != before
