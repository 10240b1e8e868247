"""Cart reads: live prices, oldest line first, one query whatever the number of lines."""

from decimal import Decimal

import pytest

from apps.cart.selectors import cart_detail, cart_items
from apps.cart.services import cart_line_add
from apps.catalog.models import Variant


def test_a_buyer_without_a_cart_sees_an_empty_cart_in_the_shop_currency(shop, settings):
    settings.SHOP_CURRENCY = "EUR"

    assert cart_detail(shop.users[0]) == {"lines": [], "total": "0.00", "currency": "EUR"}
    assert cart_items(shop.users[0]) == []


def test_lines_are_priced_with_two_decimals_and_totalled(shop):
    buyer = shop.users[0]
    first = cart_line_add(buyer, sku="SKU-00", quantity=3).line_id  # 10.00 each
    second = cart_line_add(buyer, sku="SKU-05", quantity=2).line_id  # 15.00 each

    assert cart_detail(buyer) == {
        "lines": [
            {
                "id": first,
                "sku": "SKU-00",
                "quantity": 3,
                "unit_price": "10.00",
                "line_total": "30.00",
            },
            {
                "id": second,
                "sku": "SKU-05",
                "quantity": 2,
                "unit_price": "15.00",
                "line_total": "30.00",
            },
        ],
        "total": "60.00",
        "currency": "EUR",
    }


def test_prices_are_read_live_from_the_catalog(shop):
    buyer = shop.users[0]
    cart_line_add(buyer, sku="SKU-01", quantity=3)
    Variant.objects.filter(sku="SKU-01").update(price=Decimal("0.35"))

    detail = cart_detail(buyer)

    assert detail["lines"][0]["unit_price"] == "0.35"
    assert detail["lines"][0]["line_total"] == "1.05"
    assert detail["total"] == "1.05"


def test_lines_come_oldest_first_and_adding_to_a_line_keeps_its_place(shop):
    buyer = shop.users[0]
    order = [7, 2, 11, 0, 5, 9, 1, 3, 10, 4]
    for i in order:
        cart_line_add(buyer, sku=shop.sku(i), quantity=1)
    cart_line_add(buyer, sku=shop.sku(7), quantity=1)

    assert [line["sku"] for line in cart_detail(buyer)["lines"]] == [shop.sku(i) for i in order]
    assert cart_items(buyer) == [(shop.sku(i), 2 if i == 7 else 1) for i in order]


def test_each_buyer_sees_only_their_own_lines(shop):
    for i, buyer in enumerate(shop.users):
        cart_line_add(buyer, sku=shop.sku(i), quantity=i + 1)

    for i, buyer in enumerate(shop.users):
        assert [(ln["sku"], ln["quantity"]) for ln in cart_detail(buyer)["lines"]] == [
            (shop.sku(i), i + 1)
        ]


@pytest.mark.parametrize("lines", [1, 12])
def test_the_cart_is_one_query_whatever_its_number_of_lines(shop, lines, django_assert_num_queries):
    buyer = shop.users[0]
    for i in range(lines):
        cart_line_add(buyer, sku=shop.sku(i), quantity=1)

    with django_assert_num_queries(1):
        detail = cart_detail(buyer)
    with django_assert_num_queries(1):
        items = cart_items(buyer)

    assert len(detail["lines"]) == len(items) == lines
