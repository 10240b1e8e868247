"""Checkout and order endpoints over HTTP: contract shapes, statuses, pages, queries, throttling."""

import base64
import re
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.inventory.models import StockMovement
from apps.orders.models import IdempotencyKey, Order
from apps.orders.tests.shops import api_for
from apps.orders.tests.test_selectors import orders_make
from apps.orders.throttles import CheckoutThrottle

CHECKOUT = reverse("checkout")
ORDERS = reverse("order-list")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
MONEY = re.compile(r"^\d+\.\d\d$")


def cursor_token(*parts) -> str:
    """Forge a cursor the way the server encodes one (base64 of a JSON list)."""
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).rstrip(b"=").decode()


def detail_url(number: str) -> str:
    return reverse("order-detail", kwargs={"number": number})


def cancel_url(number: str) -> str:
    return reverse("order-cancel", kwargs={"number": number})


def checkout(api, lines=None, key: str = "key-1"):
    body = {} if lines is None else {"lines": [{"sku": s, "quantity": q} for s, q in lines]}
    return api.post(CHECKOUT, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def assert_envelope(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert response["Content-Type"].startswith("application/json")
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_order_shape(body: dict) -> None:
    assert list(body) == [
        "number",
        "status",
        "lines",
        "total",
        "currency",
        "created_at",
        "expires_at",
    ]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", body["number"])
    assert MONEY.match(body["total"]) and body["currency"] == "EUR"
    assert ISO_UTC.match(body["created_at"]), body["created_at"]
    for line in body["lines"]:
        assert list(line) == ["sku", "quantity", "unit_price", "line_total"]
        assert isinstance(line["quantity"], int)
        assert MONEY.match(line["unit_price"]) and MONEY.match(line["line_total"])


@pytest.fixture
def buyer(shop):
    return shop.users[0]


@pytest.fixture
def api(buyer):
    return api_for(buyer)


class TestCheckout:
    def test_buying_lines_answers_201_with_the_order_and_takes_the_stock(self, api, shop):
        response = checkout(api, [("SKU-01", 2), ("SKU-03", 7)])

        assert response.status_code == 201
        body = response.json()
        assert_order_shape(body)
        assert body["status"] == "paid"
        assert body["lines"] == [
            {"sku": "SKU-01", "quantity": 2, "unit_price": "11.00", "line_total": "22.00"},
            {"sku": "SKU-03", "quantity": 7, "unit_price": "13.00", "line_total": "91.00"},
        ]
        assert body["total"] == "113.00"
        assert (shop.stock(1), shop.stock(3)) == (8, 3)

    def test_the_201_body_is_what_detail_and_list_show_afterwards(self, api):
        placed = checkout(api, [("SKU-02", 1)]).json()

        assert api.get(detail_url(placed["number"])).json() == placed
        assert api.get(ORDERS).json()["results"] == [placed]

    def test_an_empty_body_buys_the_cart_and_empties_it(self, api, shop):
        api.post("/api/v1/cart/lines/", {"sku": "SKU-05", "quantity": 3}, format="json")
        api.post("/api/v1/cart/lines/", {"sku": "SKU-06", "quantity": 1}, format="json")

        response = checkout(api)

        assert response.status_code == 201
        assert [(ln["sku"], ln["quantity"]) for ln in response.json()["lines"]] == [
            ("SKU-05", 3),
            ("SKU-06", 1),
        ]
        assert api.get("/api/v1/cart/").json()["lines"] == []
        assert shop.stock(5) == 7

    def test_buying_explicit_lines_leaves_the_cart_alone(self, api):
        api.post("/api/v1/cart/lines/", {"sku": "SKU-05", "quantity": 3}, format="json")

        assert checkout(api, [("SKU-06", 1)]).status_code == 201

        assert [ln["sku"] for ln in api.get("/api/v1/cart/").json()["lines"]] == ["SKU-05"]

    def test_an_empty_cart_and_no_lines_is_a_400(self, api):
        assert_envelope(checkout(api), 400, "empty_cart")
        assert not Order.objects.exists()

    def test_the_same_key_and_body_replays_the_201_and_takes_stock_once(self, api, shop):
        first = checkout(api, [("SKU-04", 2)], key="same")
        again = checkout(api, [("SKU-04", 2)], key="same")

        assert again.status_code == 201
        assert again.content == first.content  # byte for byte, key order included
        assert Order.objects.count() == 1
        assert shop.stock(4) == 8

    def test_the_same_key_with_another_body_is_a_422(self, api, shop):
        checkout(api, [("SKU-04", 2)], key="same")

        response = checkout(api, [("SKU-04", 3)], key="same")

        assert response.status_code == 422
        assert response.json() == {
            "code": "idempotency_key_reused",
            "detail": "This Idempotency-Key was already used with a different request body.",
        }
        assert Order.objects.count() == 1
        assert shop.stock(4) == 8

    def test_one_key_may_serve_two_buyers(self, shop):
        for user in shop.users[:2]:
            assert checkout(api_for(user), [("SKU-00", 1)], key="shared").status_code == 201
        assert Order.objects.count() == 2

    def test_a_missing_key_is_a_400(self, api):
        response = api.post(CHECKOUT, {"lines": [{"sku": "SKU-00", "quantity": 1}]}, format="json")

        assert_envelope(response, 400, "idempotency_key_required")

    def test_not_enough_stock_is_a_409_listing_every_short_line_and_takes_nothing(self, api, shop):
        response = checkout(api, [("SKU-00", 11), ("SKU-01", 1), ("SKU-02", 12)])

        assert response.status_code == 409
        body = response.json()
        assert list(body) == ["code", "detail", "items"]
        assert body["code"] == "insufficient_stock"
        assert isinstance(body["detail"], str) and body["detail"]
        assert body["items"] == [
            {"sku": "SKU-00", "requested": 11, "available": 10},
            {"sku": "SKU-02", "requested": 12, "available": 10},
        ]
        assert [shop.stock(i) for i in range(3)] == [10, 10, 10]
        assert not Order.objects.exists()
        assert not StockMovement.objects.exists()
        assert not IdempotencyKey.objects.exists()

    def test_an_unknown_sku_is_a_404_and_takes_nothing(self, api, shop):
        response = checkout(api, [("SKU-00", 1), ("NOPE", 1)])

        assert_envelope(response, 404, "unknown_sku")
        assert shop.stock(0) == 10
        assert not Order.objects.exists()

    def test_a_declined_payment_is_a_402_with_the_failed_order_and_the_stock_back(
        self, api, shop, test_payments
    ):
        test_payments.decline_next()

        response = checkout(api, [("SKU-08", 4)])

        assert response.status_code == 402
        body = response.json()
        assert list(body) == ["code", "detail", "order"]
        assert body["code"] == "payment_failed"
        assert_order_shape(body["order"])
        assert body["order"]["status"] == "payment_failed"
        assert shop.stock(8) == 10

    def test_an_anonymous_checkout_is_a_401(self, shop):
        response = APIClient().post(
            CHECKOUT,
            {"lines": [{"sku": "SKU-00", "quantity": 1}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k",
        )

        assert_envelope(response, 401, "not_authenticated")
        assert shop.stock(0) == 10


class TestThrottle:
    @pytest.fixture
    def two_per_minute(self, monkeypatch):
        # DRF copies the rates into the class at import: override_settings cannot reach them.
        monkeypatch.setattr(CheckoutThrottle, "THROTTLE_RATES", {"checkout": "2/min"})

    def test_the_third_checkout_in_a_minute_is_a_429_envelope(self, shop, api, two_per_minute):
        statuses = [checkout(api, [("SKU-00", 1)], key=f"k{i}").status_code for i in range(2)]

        response = checkout(api, [("SKU-00", 1)], key="k2")

        assert statuses == [201, 201]
        assert_envelope(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
        assert Order.objects.count() == 2
        assert checkout(api_for(shop.users[1]), [("SKU-00", 1)]).status_code == 201

    def test_the_default_rate_allows_30_checkouts_a_minute(self):
        throttle = CheckoutThrottle()

        assert throttle.num_requests >= 30
        assert throttle.duration == 60


class TestList:
    def test_the_list_is_the_users_own_orders_newest_first(self, api, shop):
        numbers = [
            checkout(api, [(shop.sku(i), 1)], key=f"k{i}").json()["number"] for i in range(3)
        ]
        checkout(api_for(shop.users[1]), [("SKU-00", 1)])

        body = api.get(ORDERS).json()

        assert [o["number"] for o in body["results"]] == numbers[::-1]
        assert body["next"] is None and body["previous"] is None
        for order in body["results"]:
            assert_order_shape(order)

    def test_walking_next_links_visits_all_13_orders_once(self, api, buyer, shop):
        mine = orders_make(buyer, 13)
        orders_make(shop.users[1], 10)
        pages, url = [], f"{ORDERS}?page_size=5"
        while url:
            body = api.get(url).json()
            pages.append([o["number"] for o in body["results"]])
            if body["next"]:
                assert parse_qs(urlsplit(body["next"]).query)["page_size"] == ["5"]
            url = body["next"]

        assert [len(p) for p in pages] == [5, 5, 3]
        assert [number for page in pages for number in page] == [o.number for o in reversed(mine)]

    def test_walking_previous_links_back_gives_the_same_pages(self, api, buyer):
        orders_make(buyer, 12)
        first = api.get(f"{ORDERS}?page_size=5").json()
        second = api.get(first["next"]).json()
        third = api.get(second["next"]).json()

        back_to_second = api.get(third["previous"]).json()
        back_to_first = api.get(back_to_second["previous"]).json()

        assert third["next"] is None
        assert back_to_second["results"] == second["results"]
        assert back_to_first["results"] == first["results"]
        assert back_to_first["previous"] is None

    def test_the_default_page_size_is_the_contracts_24(self, api, buyer):
        orders_make(buyer, 30)

        body = api.get(ORDERS).json()

        assert len(body["results"]) == 24
        assert body["next"] is not None

    @pytest.mark.parametrize("asked", [101, 1000, 10**9])
    def test_a_page_size_above_100_is_clamped_to_100(self, api, buyer, asked):
        orders_make(buyer, 101)

        body = api.get(f"{ORDERS}?page_size={asked}").json()

        assert len(body["results"]) == 100
        assert body["next"] is not None

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            "!!!",
            "W10",
            "WyItY3JlYXRlZF9hdCIsMSwibm90LWEtZGF0ZSIsMV0",
            "e30",
            "\u00e9",
            cursor_token("-created_at", 1, "2026-01-01T00:00:00", 1),
            cursor_token("price", 1, "10.00", 1),
            cursor_token("-created_at", 1, "2026-01-01T00:00:00+00:00", 0),
        ],
        ids=[
            "text",
            "not-base64",
            "empty-list",
            "bad-date",
            "object",
            "non-ascii",
            "naive-date",
            "other-ordering",
            "id-zero",
        ],
    )
    def test_a_malformed_cursor_is_a_400_naming_the_cursor(self, api, buyer, cursor):
        orders_make(buyer, 10)

        response = api.get(ORDERS, {"cursor": cursor})

        body = assert_envelope(response, 400, "invalid")
        assert list(body["fields"]) == ["cursor"]

    @pytest.mark.parametrize("offset", ["+16:00", "-23:59"])
    def test_a_cursor_with_an_offset_postgresql_cannot_store_is_never_a_500(
        self, api, buyer, offset
    ):
        mine = orders_make(buyer, 12)
        # The server only issues UTC cursors; a forged offset is either refused or read as the
        # instant it names (2027, after every order here), but never sent to PostgreSQL as is.
        cursor = cursor_token("-created_at", 1, f"2027-01-01T00:00:00{offset}", 2**62)
        api.raise_request_exception = False  # a bug must show as a 500, not as a raise

        response = api.get(ORDERS, {"cursor": cursor})

        assert response.status_code in (200, 400), response.content[:200]
        if response.status_code == 400:
            assert list(assert_envelope(response, 400, "invalid")["fields"]) == ["cursor"]
        else:
            numbers = [o["number"] for o in response.json()["results"]]
            assert numbers == [o.number for o in reversed(mine)]

    def test_an_empty_cursor_is_the_first_page_as_in_the_catalog(self, api, buyer):
        orders_make(buyer, 10)

        response = api.get(ORDERS, {"cursor": "", "page_size": 5})

        assert response.status_code == 200, response.json()
        assert response.json()["results"] == api.get(ORDERS, {"page_size": 5}).json()["results"]

    @pytest.mark.parametrize("page_size", ["0", "-1", "abc", "1.5"])
    def test_a_bad_page_size_is_a_400(self, api, page_size):
        assert_envelope(api.get(ORDERS, {"page_size": page_size}), 400, "invalid")

    def test_unknown_query_parameters_are_ignored(self, api, buyer):
        orders_make(buyer, 10)

        assert len(api.get(ORDERS, {"status": "paid", "sort": "x"}).json()["results"]) == 10

    @pytest.mark.parametrize(("orders", "lines_each"), [(1, 1), (12, 5)])
    def test_a_list_page_costs_three_queries_whatever_the_orders_and_lines(
        self, api, buyer, orders, lines_each, django_assert_num_queries
    ):
        orders_make(buyer, orders, lines_each=lines_each)

        # The token (with its user), the page of orders, the lines of those orders.
        with django_assert_num_queries(3):
            body = api.get(ORDERS).json()

        assert sum(len(o["lines"]) for o in body["results"]) == orders * lines_each


class TestDetail:
    @pytest.mark.parametrize("lines_each", [1, 12])
    def test_a_detail_costs_three_queries_whatever_its_lines(
        self, api, buyer, lines_each, django_assert_num_queries
    ):
        (order, *_) = orders_make(buyer, 10, lines_each=lines_each)

        with django_assert_num_queries(3):
            body = api.get(detail_url(order.number)).json()

        assert_order_shape(body)
        assert len(body["lines"]) == lines_each

    def test_another_users_order_is_a_404(self, api, shop):
        theirs = checkout(api_for(shop.users[1]), [("SKU-00", 1)]).json()

        assert_envelope(api.get(detail_url(theirs["number"])), 404, "not_found")

    def test_an_unknown_number_is_a_404(self, api):
        assert_envelope(api.get(detail_url("0000000000AA")), 404, "not_found")


class TestCancel:
    def test_cancelling_answers_200_with_the_cancelled_order_and_returns_the_stock(self, api, shop):
        placed = checkout(api, [("SKU-09", 6)]).json()

        response = api.post(cancel_url(placed["number"]))

        assert response.status_code == 200
        assert response.json() == {**placed, "status": "cancelled"}
        assert shop.stock(9) == 10

    def test_cancelling_twice_is_a_409_and_returns_the_stock_once(self, api, shop):
        placed = checkout(api, [("SKU-09", 6)]).json()
        api.post(cancel_url(placed["number"]))

        response = api.post(cancel_url(placed["number"]))

        body = assert_envelope(response, 409, "invalid_transition")
        assert body["status"] == "cancelled"
        assert shop.stock(9) == 10

    def test_another_users_order_cannot_be_cancelled(self, api, shop):
        theirs = checkout(api_for(shop.users[1]), [("SKU-09", 6)]).json()

        response = api.post(cancel_url(theirs["number"]))

        assert_envelope(response, 404, "not_found")
        assert Order.objects.get(number=theirs["number"]).status == "paid"
        assert shop.stock(9) == 4
