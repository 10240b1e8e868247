"""Order reads: owner-only, newest first, keyset pages, a constant number of queries."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.orders.errors import OrderNotFound
from apps.orders.models import Order, OrderLine
from apps.orders.selectors import order_detail, order_list

BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def orders_make(
    user, count: int, *, lines_each: int = 1, step: timedelta = timedelta(minutes=1)
) -> list[Order]:
    """Create ``count`` orders, the i-th at BASE + i * step, each with ``lines_each`` lines."""
    orders = Order.objects.bulk_create(
        Order(user=user, currency="EUR", total=Decimal("10.00") * lines_each) for _ in range(count)
    )
    for i, order in enumerate(orders):
        order.created_at = BASE + i * step
    # bulk_update skips auto_now_add, so the chosen creation times stick.
    Order.objects.bulk_update(orders, ["created_at"])
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=f"SKU-{j:02d}",
            name=f"Thing {j:02d}",
            quantity=j + 1,
            unit_price=Decimal("10.00"),
            line_total=Decimal("10.00") * (j + 1),
        )
        for order in orders
        for j in range(lines_each)
    )
    return orders


def walk(user, page_size: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        results, page = order_list(user, page_size, cursor)
        pages.append([row["number"] for row in results])
        if page.next is None:
            return pages
        cursor = page.next


def test_the_list_is_the_users_own_orders_newest_first(shop):
    mine = orders_make(shop.users[0], 12)
    orders_make(shop.users[1], 10)

    results, page = order_list(shop.users[0], 20, None)

    assert [row["number"] for row in results] == [o.number for o in reversed(mine)]
    assert page.next is None and page.previous is None


@pytest.mark.parametrize("step", [timedelta(minutes=1), timedelta(0)], ids=["spread", "same-time"])
def test_walking_forward_visits_every_order_once_in_order(shop, step):
    mine = orders_make(shop.users[0], 13, step=step)
    orders_make(shop.users[1], 10, step=step)

    pages = walk(shop.users[0], 5)

    assert [len(p) for p in pages] == [5, 5, 3]
    # Equal creation times fall back to the id, newest (highest) first.
    assert [number for page in pages for number in page] == [o.number for o in reversed(mine)]


def test_the_previous_cursor_returns_the_page_before(shop):
    orders_make(shop.users[0], 12)
    first, page1 = order_list(shop.users[0], 5, None)
    second, page2 = order_list(shop.users[0], 5, page1.next)

    back, page_back = order_list(shop.users[0], 5, page2.previous)

    assert page1.previous is None
    assert back == first
    assert page_back.previous is None and page_back.next is not None
    assert second[0]["number"] != first[-1]["number"]


def test_orders_carry_their_own_lines_in_line_order(shop):
    orders = orders_make(shop.users[0], 10, lines_each=3)

    results, _ = order_list(shop.users[0], 10, None)

    for row in results:
        assert [(ln["sku"], ln["quantity"]) for ln in row["lines"]] == [
            ("SKU-00", 1),
            ("SKU-01", 2),
            ("SKU-02", 3),
        ]
    assert {row["number"] for row in results} == {o.number for o in orders}


def test_an_order_is_rendered_in_the_contract_shape(shop):
    (order,) = orders_make(shop.users[0], 1, lines_each=2)

    assert order_detail(shop.users[0], order.number) == {
        "number": order.number,
        "status": "placed",
        "lines": [
            {"sku": "SKU-00", "quantity": 1, "unit_price": "10.00", "line_total": "10.00"},
            {"sku": "SKU-01", "quantity": 2, "unit_price": "10.00", "line_total": "20.00"},
        ],
        "total": "20.00",
        "currency": "EUR",
        "created_at": "2026-11-01T12:00:00Z",
        "expires_at": None,
    }


def test_another_users_order_is_not_found(shop):
    theirs = orders_make(shop.users[1], 10)

    for order in theirs:
        with pytest.raises(OrderNotFound):
            order_detail(shop.users[0], order.number)


@pytest.mark.parametrize(("orders", "lines_each"), [(1, 1), (12, 5)])
def test_a_list_page_is_two_queries_whatever_the_orders_and_lines(
    shop, orders, lines_each, django_assert_num_queries
):
    orders_make(shop.users[0], orders, lines_each=lines_each)

    with django_assert_num_queries(2):
        results, _ = order_list(shop.users[0], 100, None)

    assert sum(len(row["lines"]) for row in results) == orders * lines_each


def test_an_empty_list_is_one_query(shop, django_assert_num_queries):
    orders_make(shop.users[1], 10)

    with django_assert_num_queries(1):
        results, page = order_list(shop.users[0], 10, None)

    assert results == [] and page.next is None


@pytest.mark.parametrize("lines_each", [1, 12])
def test_a_detail_is_two_queries_whatever_its_lines(shop, lines_each, django_assert_num_queries):
    (order, *_) = orders_make(shop.users[0], 10, lines_each=lines_each)

    with django_assert_num_queries(2):
        detail = order_detail(shop.users[0], order.number)

    assert len(detail["lines"]) == lines_each
