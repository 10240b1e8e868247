"""Reservations that run out: expired in batches, units returned once, the rest left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import StockMovement
from apps.orders.models import Order
from apps.payments import metrics
from apps.payments.services import reservations_expire
from apps.payments.tests.conftest import checkout

pytestmark = pytest.mark.usefixtures("deferred")


def pending_orders(shop, count: int) -> list[Order]:
    numbers = [
        checkout(shop.users[i % 10], [(shop.sku(i % 12), 1)]).json()["number"] for i in range(count)
    ]
    return list(Order.objects.filter(number__in=numbers).order_by("id"))


def run_out(orders: list[Order]) -> None:
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        expires_at=timezone.now() - timedelta(seconds=5)
    )


def test_only_the_reservations_past_their_time_expire(shop):
    orders = pending_orders(shop, 12)
    run_out(orders[:7])

    assert reservations_expire() == 7

    statuses = dict(Order.objects.values_list("number", "status"))
    assert [statuses[o.number] for o in orders] == ["expired"] * 7 + ["pending_payment"] * 5
    assert [shop.stock(i) for i in range(12)] == [10] * 7 + [9] * 5


def test_a_second_run_finds_nothing_and_returns_nothing_twice(shop):
    orders = pending_orders(shop, 4)
    run_out(orders)
    reservations_expire()

    assert reservations_expire() == 0
    returned = StockMovement.objects.filter(reason="expired")
    assert returned.count() == 4 and sum(returned.values_list("delta", flat=True)) == 4


def test_batches_smaller_than_the_backlog_still_expire_all_of_it(shop):
    orders = pending_orders(shop, 9)
    run_out(orders)

    assert reservations_expire(batch=2) == 9
    assert not Order.objects.filter(status="pending_payment").exists()


def test_an_expired_order_never_changes_again(shop):
    (order,) = pending_orders(shop, 1)
    run_out([order])
    reservations_expire()

    order.refresh_from_db()
    assert order.status == "expired"
    assert not order.can_become("paid") and not order.can_become("pending_payment")


def test_the_run_reports_the_reservations_still_held(shop):
    orders = pending_orders(shop, 5)
    run_out(orders[:2])

    reservations_expire()

    assert metrics.RESERVATIONS_HELD._value.get() == 3


def test_an_expired_reservation_costs_a_constant_number_of_queries_per_order(
    shop, django_assert_max_num_queries
):
    orders = pending_orders(shop, 10)
    run_out(orders)

    # A SELECT ... SKIP LOCKED, one UPDATE, one stock return per order, the held count.
    with django_assert_max_num_queries(10 + 6):
        reservations_expire()
