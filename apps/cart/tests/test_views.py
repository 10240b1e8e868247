"""Cart endpoints over HTTP: shapes, status codes and error envelopes from the contract."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from apps.cart.models import Cart, CartLine
from apps.cart.tests.conftest import api_for, cart_line_id
from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from perf.budgets import QUERY_BUDGETS

CART = reverse("cart")
LINES = reverse("cart-lines")


def line_url(line_id: int) -> str:
    return reverse("cart-line", kwargs={"line_id": line_id})


def assert_envelope(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert response["Content-Type"].startswith("application/json")
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def cart_rows() -> list[tuple]:
    return list(
        CartLine.objects.order_by("pk").values_list("pk", "cart_id", "variant_id", "quantity")
    )


@pytest.fixture
def buyer(shop):
    return shop.users[0]


@pytest.fixture
def api(buyer):
    return api_for(buyer)


class TestAuthentication:
    @pytest.mark.parametrize(
        ("method", "url", "body"),
        [
            ("get", CART, None),
            ("post", LINES, {"sku": "SKU-00", "quantity": 1}),
            ("patch", "/api/v1/cart/lines/1/", {"quantity": 1}),
            ("delete", "/api/v1/cart/lines/1/", None),
        ],
    )
    def test_an_anonymous_request_is_a_401_envelope_and_creates_nothing(
        self, shop, anonymous, method, url, body
    ):
        response = getattr(anonymous, method)(url, body, format="json")

        assert_envelope(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"
        assert not Cart.objects.exists()

    def test_an_unknown_token_is_a_401_envelope(self, shop, anonymous):
        anonymous.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)

        assert_envelope(anonymous.get(CART), 401, "authentication_failed")


class TestRead:
    def test_an_empty_cart_has_no_lines_and_a_zero_total(self, api):
        response = api.get(CART)

        assert response.status_code == 200
        assert response.json() == {"lines": [], "total": "0.00", "currency": "EUR"}

    def test_the_cart_has_the_contract_shape_with_money_as_two_decimal_strings(self, api, buyer):
        api.post(LINES, {"sku": "SKU-02", "quantity": 3}, format="json")
        Variant.objects.filter(sku="SKU-02").update(price=Decimal("7.5"))

        body = api.get(CART).json()

        assert body == {
            "lines": [
                {
                    "id": cart_line_id(buyer, "SKU-02"),
                    "sku": "SKU-02",
                    "quantity": 3,
                    "unit_price": "7.50",
                    "line_total": "22.50",
                }
            ],
            "total": "22.50",
            "currency": "EUR",
        }

    @pytest.mark.parametrize("lines", [1, 12])
    def test_the_cart_costs_the_same_one_query_for_1_or_12_lines(
        self, api, shop, lines, django_assert_num_queries
    ):
        for i in range(lines):
            api.post(LINES, {"sku": shop.sku(i), "quantity": 1}, format="json")

        # The cart's lines joined to their variants: the token is known since the first add.
        with django_assert_num_queries(QUERY_BUDGETS["cart"]):
            response = api.get(CART)

        assert len(response.json()["lines"]) == lines


class TestAdd:
    def test_adding_answers_201_with_the_whole_cart(self, api, buyer):
        api.post(LINES, {"sku": "SKU-00", "quantity": 1}, format="json")

        response = api.post(LINES, {"sku": "SKU-01", "quantity": 2}, format="json")

        assert response.status_code == 201
        body = response.json()
        assert [(ln["sku"], ln["quantity"]) for ln in body["lines"]] == [
            ("SKU-00", 1),
            ("SKU-01", 2),
        ]
        assert body["total"] == "32.00"
        assert body["currency"] == "EUR"

    def test_the_same_sku_again_adds_to_its_line(self, api, buyer):
        first = api.post(LINES, {"sku": "SKU-04", "quantity": 2}, format="json").json()
        second = api.post(LINES, {"sku": "SKU-04", "quantity": 5}, format="json").json()

        assert len(second["lines"]) == 1
        assert second["lines"][0]["id"] == first["lines"][0]["id"]
        assert second["lines"][0]["quantity"] == 7
        assert Cart.objects.filter(user=buyer).count() == 1

    def test_a_quantity_above_the_per_line_limit_is_a_400_naming_the_field(self, api, settings):
        response = api.post(
            LINES, {"sku": "SKU-00", "quantity": settings.CART_MAX_LINE_QUANTITY + 1}, format="json"
        )

        body = assert_envelope(response, 400, "invalid")
        assert list(body["fields"]) == ["quantity"]
        assert not CartLine.objects.exists()

    def test_adding_past_the_per_line_limit_to_an_existing_line_is_a_400(self, api, settings):
        limit = settings.CART_MAX_LINE_QUANTITY
        api.post(LINES, {"sku": "SKU-00", "quantity": limit - 1}, format="json")
        at_limit = api.post(LINES, {"sku": "SKU-00", "quantity": 1}, format="json")

        response = api.post(LINES, {"sku": "SKU-00", "quantity": 1}, format="json")

        assert at_limit.status_code == 201
        body = assert_envelope(response, 400, "quantity_limit")
        assert body["limit"] == limit
        assert api.get(CART).json()["lines"][0]["quantity"] == limit

    def test_a_new_sku_in_a_full_cart_is_a_400_cart_full(self, api, shop, settings):
        settings.CART_MAX_LINES = 10
        for i in range(10):
            api.post(LINES, {"sku": shop.sku(i), "quantity": 1}, format="json")

        response = api.post(LINES, {"sku": "SKU-10", "quantity": 1}, format="json")
        again = api.post(LINES, {"sku": "SKU-09", "quantity": 1}, format="json")

        assert_envelope(response, 400, "cart_full")
        assert again.status_code == 201
        assert len(again.json()["lines"]) == 10

    def test_an_unknown_sku_is_a_404_unknown_sku(self, api):
        response = api.post(LINES, {"sku": "NO-SUCH-SKU", "quantity": 1}, format="json")

        body = assert_envelope(response, 404, "unknown_sku")
        assert body["sku"] == "NO-SUCH-SKU"
        assert not Cart.objects.exists()

    def test_an_inactive_variant_or_product_is_an_unknown_sku(self, api, shop):
        Variant.objects.filter(sku="SKU-03").update(is_active=False)
        Product.objects.filter(variants__sku="SKU-04").update(is_active=False)

        for sku in ("SKU-03", "SKU-04"):
            response = api.post(LINES, {"sku": sku, "quantity": 1}, format="json")
            assert_envelope(response, 404, "unknown_sku")
        assert not CartLine.objects.exists()

    def test_a_line_in_another_currency_is_a_400_currency_mismatch(self, api):
        VariantFactory(product=ProductFactory(slug="import"), sku="USD-1", currency="USD")
        api.post(LINES, {"sku": "SKU-00", "quantity": 1}, format="json")

        response = api.post(LINES, {"sku": "USD-1", "quantity": 1}, format="json")

        assert_envelope(response, 400, "currency_mismatch")
        assert [ln["sku"] for ln in api.get(CART).json()["lines"]] == ["SKU-00"]


class TestChange:
    def test_patch_sets_the_quantity_and_answers_200_with_the_cart(self, api, buyer):
        api.post(LINES, {"sku": "SKU-00", "quantity": 1}, format="json")
        line_id = cart_line_id(buyer, "SKU-00")

        response = api.patch(line_url(line_id), {"quantity": 4}, format="json")

        assert response.status_code == 200
        assert response.json()["lines"] == [
            {
                "id": line_id,
                "sku": "SKU-00",
                "quantity": 4,
                "unit_price": "10.00",
                "line_total": "40.00",
            }
        ]

    def test_patch_above_the_limit_is_a_400_and_keeps_the_quantity(self, api, buyer, settings):
        api.post(LINES, {"sku": "SKU-00", "quantity": 2}, format="json")
        line_id = cart_line_id(buyer, "SKU-00")

        response = api.patch(
            line_url(line_id), {"quantity": settings.CART_MAX_LINE_QUANTITY + 1}, format="json"
        )

        assert_envelope(response, 400, "invalid")
        assert CartLine.objects.get(pk=line_id).quantity == 2

    def test_delete_removes_the_line_and_answers_204_without_a_body(self, api, buyer):
        api.post(LINES, {"sku": "SKU-00", "quantity": 1}, format="json")
        api.post(LINES, {"sku": "SKU-01", "quantity": 1}, format="json")

        response = api.delete(line_url(cart_line_id(buyer, "SKU-00")))

        assert response.status_code == 204
        assert response.content == b""
        assert [ln["sku"] for ln in api.get(CART).json()["lines"]] == ["SKU-01"]

    @pytest.mark.parametrize(
        ("method", "body"), [("patch", {"quantity": 9}), ("delete", None)], ids=["patch", "delete"]
    )
    def test_another_users_line_is_a_404_and_nothing_changes(self, shop, method, body):
        owner, intruder = shop.users[0], shop.users[1]
        for i, user in enumerate(shop.users):
            api_for(user).post(LINES, {"sku": shop.sku(i), "quantity": 2}, format="json")
        before = cart_rows()

        response = getattr(api_for(intruder), method)(
            line_url(cart_line_id(owner, "SKU-00")), body, format="json"
        )

        assert_envelope(response, 404, "not_found")
        assert cart_rows() == before

    @pytest.mark.parametrize("line_id", ["999999999999999999", "9" * 19, "abc", "-1"])
    def test_a_line_id_that_cannot_exist_is_a_404_envelope(self, api, line_id):
        response = api.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 1}, format="json")

        assert_envelope(response, 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_adds_of_one_sku_by_one_buyer_add_up_exactly(shop):
    buyer = shop.users[0]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def add(quantity: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = api_for(buyer).post(
                LINES, {"sku": "SKU-06", "quantity": quantity}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(q,)) for q in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [201, 201]
    assert list(CartLine.objects.values_list("variant__sku", "quantity")) == [("SKU-06", 7)]
    assert Cart.objects.filter(user=buyer).count() == 1
