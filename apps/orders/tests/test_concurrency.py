"""Checkout under real concurrency: real threads, each with its own PostgreSQL connection.

Every test here fails if the pk-ordered locks, the re-check under the lock, the idempotency claim
or the order row lock were removed.
"""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.cart.models import Cart, CartLine
from apps.inventory.errors import InsufficientStock
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderLine
from apps.orders.services import LineRequest, order_place
from apps.orders.tests.race import committed_once_waited_for
from apps.orders.tests.shops import api_for, shop_build

pytestmark = pytest.mark.django_db(transaction=True)


def _all_at_once(calls: list) -> list:
    """Start every call at once (a barrier), each on its own connection; return the results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _checkout(user, lines, key):
    def call():
        response = api_for(user).post(
            "/api/v1/checkout/", {"lines": lines}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        return response.status_code, response.json(), response.content

    return call


def test_sixty_buyers_of_a_sku_with_25_units_make_25_orders_and_35_clean_conflicts():
    shop = shop_build(units_per_warehouse=0, skus=10, buyers=60)
    hot = shop.variants[3]
    # 25 units over two warehouses, so the allocation also has to split across rows correctly.
    Stock.objects.filter(variant=hot, warehouse__code="main").update(quantity=15)
    Stock.objects.filter(variant=hot, warehouse__code="overflow").update(quantity=10)

    results = _all_at_once(
        [
            _checkout(user, [{"sku": hot.sku, "quantity": 1}], f"flash-{i}")
            for i, user in enumerate(shop.users)
        ]
    )

    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(201) == 25
    assert statuses.count(409) == 35
    assert all(body["code"] == "insufficient_stock" for status, body, _ in results if status == 409)
    assert set(Stock.objects.filter(variant=hot).values_list("quantity", flat=True)) == {0}
    assert Order.objects.count() == 25
    assert sum(OrderLine.objects.values_list("quantity", flat=True)) == 25
    assert sum(StockMovement.objects.values_list("delta", flat=True)) == -25


def test_twenty_buyers_with_the_same_five_skus_in_different_orders_never_deadlock():
    shop = shop_build(units_per_warehouse=30, skus=10, buyers=20)
    skus = [shop.variants[i] for i in (7, 2, 9, 0, 5)]
    rng = random.Random(7)
    carts = Cart.objects.bulk_create(Cart(user=user) for user in shop.users)
    lines = []
    for cart in carts:
        order = skus[:]
        rng.shuffle(order)  # each cart lists the SKUs in its own order
        lines += [CartLine(cart=cart, variant=v, quantity=2) for v in order]
    CartLine.objects.bulk_create(lines)

    def buy_cart(user, key):
        def call():
            response = api_for(user).post("/api/v1/checkout/", HTTP_IDEMPOTENCY_KEY=key)
            return response.status_code, response.json()

        return call

    results = _all_at_once([buy_cart(user, f"cart-{i}") for i, user in enumerate(shop.users)])

    assert [status for status, _ in results] == [201] * 20, results
    for variant in skus:
        assert sum(Stock.objects.filter(variant=variant).values_list("quantity", flat=True)) == 20
    assert not CartLine.objects.exists()


def test_one_key_sent_ten_times_at_once_makes_one_order_and_ten_identical_bodies():
    shop = shop_build(skus=10, buyers=10)
    buyer = shop.users[0]
    lines = [{"sku": shop.sku(1), "quantity": 2}, {"sku": shop.sku(4), "quantity": 1}]

    results = _all_at_once([_checkout(buyer, lines, "double-click") for _ in range(10)])

    assert [status for status, _, _ in results] == [201] * 10
    assert len({content for _, _, content in results}) == 1
    assert Order.objects.count() == 1
    assert shop.stock(1) == 8 and shop.stock(4) == 9


def test_two_concurrent_cancellations_return_the_stock_once():
    shop = shop_build(skus=10, buyers=10)
    buyer = shop.users[0]
    status, body, _ = _checkout(buyer, [{"sku": shop.sku(2), "quantity": 7}], "to-cancel")()
    assert status == 201 and shop.stock(2) == 3

    def cancel():
        response = api_for(buyer).post(f"/api/v1/orders/{body['number']}/cancel/")
        return response.status_code, response.json()

    results = _all_at_once([cancel, cancel])

    assert sorted(status for status, _ in results) == [200, 409]
    assert shop.stock(2) == 10
    assert StockMovement.objects.filter(reason="cancel").count() == 2  # one per warehouse row


def test_a_checkout_overtaken_between_its_unlocked_check_and_its_lock_is_refused():
    shop = shop_build(units_per_warehouse=0, skus=10, buyers=10)
    Stock.objects.filter(variant=shop.variants[0], warehouse__code="main").update(quantity=3)
    first, second = shop.users[:2]

    def competitor():
        return order_place(second, key="competitor", lines=[LineRequest(shop.sku(0), 3)])

    # The competitor holds the 3 units, uncommitted: our unlocked check still sees them, and
    # our lock waits for its commit. The re-check under the lock then finds none.
    with committed_once_waited_for(competitor) as race, pytest.raises(InsufficientStock) as err:
        order_place(first, key="first", lines=[LineRequest(shop.sku(0), 2)])

    assert race["blocked"] and race["result"].status == 201
    assert err.value.items == [{"sku": shop.sku(0), "requested": 2, "available": 0}]
    assert shop.stock(0) == 0
    assert Order.objects.count() == 1 and not Order.objects.filter(user=first).exists()


@pytest.fixture(autouse=True)
def _more_buyers_than_the_default_pool():
    assert connection.vendor == "postgresql"
    yield
    UserFactory.reset_sequence()


def test_a_line_raised_while_the_cart_is_checked_out_keeps_what_was_not_bought():
    # The checkout emptied the whole cart: a line another tab raised meanwhile was deleted unbought.
    from apps.cart.services import cart_line_add

    shop = shop_build()
    buyer = shop.users[0]
    cart_line_add(buyer, sku=shop.sku(0), quantity=2)

    def other_tabs():
        cart_line_add(buyer, sku=shop.sku(0), quantity=3)  # holds the line's row lock
        cart_line_add(buyer, sku=shop.sku(1), quantity=1)

    # The checkout reads the cart (2 units, the other tabs' writes unseen), then waits for the
    # line's lock when it takes what it bought.
    with committed_once_waited_for(other_tabs) as race:
        result = order_place(buyer, key="tabs", lines=None)

    assert race["blocked"] and result.status == 201
    bought = dict(OrderLine.objects.values_list("sku", "quantity"))
    assert bought == {shop.sku(0): 2}
    in_cart = dict(
        CartLine.objects.filter(cart__user=buyer).values_list("variant__sku", "quantity")
    )
    assert in_cart == {shop.sku(1): 1, shop.sku(0): 3}
