"""Confirmation emails: one per paid order, never for an unpaid one, never twice."""

import pytest
from django.core import mail

from apps.orders.emails import order_confirmations_send
from apps.orders.models import Order
from apps.orders.tests.shops import api_for


class RefusingBackend:
    """An email backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def buy(shop, user: int, sku: int, quantity: int = 1) -> dict:
    response = api_for(shop.users[user]).post(
        "/api/v1/checkout/",
        {"lines": [{"sku": shop.sku(sku), "quantity": quantity}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"mail-{user}-{sku}",
    )
    return response.json()


def test_each_paid_order_gets_one_email_to_its_buyer(shop):
    orders = [buy(shop, i, i, quantity=2) for i in range(3)]

    assert order_confirmations_send() == 3
    assert order_confirmations_send() == 0

    assert len(mail.outbox) == 3
    by_number = {message.subject.split()[-1]: message for message in mail.outbox}
    for i, order in enumerate(orders):
        message = by_number[order["number"]]
        assert message.to == [shop.users[i].email]
        assert f"2 x {shop.sku(i)}" in message.body and order["total"] in message.body


def test_a_declined_order_gets_no_email(shop, test_payments):
    test_payments.decline_next()
    buy(shop, 0, 0)

    assert order_confirmations_send() == 0 and mail.outbox == []


def test_a_failed_send_keeps_the_email_due_for_the_retry(shop, settings):
    buy(shop, 0, 0)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with pytest.raises(ConnectionRefusedError):
        order_confirmations_send()

    assert Order.objects.get().email_due
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert order_confirmations_send() == 1 and len(mail.outbox) == 1


def test_sending_costs_a_constant_number_of_queries_per_order(shop, django_assert_max_num_queries):
    for i in range(8):
        buy(shop, i, i, quantity=1 + i % 3)

    # Per order: claim (SELECT ... SKIP LOCKED with its buyer), its lines, mark; one empty claim.
    with django_assert_max_num_queries(8 * 3 + 1 + 2 * 9):
        assert order_confirmations_send() == 8
