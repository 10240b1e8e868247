"""The order status machine and order numbers."""

import itertools
import re

import pytest

from apps.core.exceptions import exception_handler
from apps.orders.errors import InvalidTransition
from apps.orders.models import Order, order_number_new

S = Order.Status
ALLOWED = {
    (S.PLACED, S.PAID),
    (S.PLACED, S.CANCELLED),
    (S.PLACED, S.PAYMENT_FAILED),
    (S.PENDING_PAYMENT, S.PAID),
    (S.PENDING_PAYMENT, S.PAYMENT_FAILED),
    (S.PENDING_PAYMENT, S.EXPIRED),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PAID, S.FULFILLED),
    (S.PAID, S.CANCELLED),
}
EVERY_PAIR = list(itertools.product(S.values, S.values))


def test_the_machine_knows_seven_statuses():
    assert set(S.values) == {
        "placed",
        "pending_payment",
        "paid",
        "fulfilled",
        "cancelled",
        "payment_failed",
        "expired",
    }
    assert len(EVERY_PAIR) == 49


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_transition_changes_the_status(current, target):
    order = Order(status=current)

    assert order.can_become(target)
    order.transition_to(target)

    assert order.status == target


@pytest.mark.parametrize(
    ("current", "target"), [pair for pair in EVERY_PAIR if pair not in ALLOWED]
)
def test_every_other_transition_is_refused_and_keeps_the_status(current, target):
    order = Order(status=current)

    assert not order.can_become(target)
    with pytest.raises(InvalidTransition) as raised:
        order.transition_to(target)

    assert order.status == current
    assert raised.value.as_payload()["status"] == current
    assert current in raised.value.detail and target in raised.value.detail


@pytest.mark.parametrize("final", [S.FULFILLED, S.CANCELLED, S.PAYMENT_FAILED, S.EXPIRED])
def test_final_statuses_go_nowhere(final):
    assert not any(Order(status=final).can_become(target) for target in S.values)


def test_stock_is_back_on_the_shelf_only_for_cancelled_failed_and_expired_orders():
    assert {S.CANCELLED, S.PAYMENT_FAILED, S.EXPIRED} == Order.STOCK_RETURNED


def test_a_refused_transition_renders_as_a_409_invalid_transition_envelope():
    with pytest.raises(InvalidTransition) as raised:
        Order(status=S.CANCELLED).transition_to(S.CANCELLED)

    response = exception_handler(raised.value, {})

    assert response.status_code == 409
    assert response.data == {
        "code": "invalid_transition",
        "detail": "An order that is cancelled cannot become cancelled.",
        "status": "cancelled",
    }


def test_order_numbers_are_12_characters_of_the_unambiguous_alphabet():
    numbers = [order_number_new() for _ in range(2000)]

    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", number) for number in numbers)
    assert not set("".join(numbers)) & set("ILOU")


def test_order_numbers_do_not_repeat_and_use_the_whole_alphabet():
    numbers = [order_number_new() for _ in range(20_000)]

    assert len(set(numbers)) == len(numbers)
    assert set("".join(numbers)) == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


@pytest.mark.django_db
def test_each_new_order_gets_its_own_number(shop):
    orders = Order.objects.bulk_create(
        Order(user=user, currency="EUR", total=0) for user in shop.users
    )

    assert len({order.number for order in orders}) == len(shop.users) == 10
    assert Order.objects.filter(status=S.PLACED).count() == 10
