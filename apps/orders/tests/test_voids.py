"""The void outbox: every authorization an order will not use is voided, at least once."""

import pytest

from apps.orders.models import Order
from apps.orders.payments import TestProvider
from apps.orders.services import payments_void_due
from apps.orders.tests.shops import api_for


def bought(shop, count: int) -> list[Order]:
    for i in range(count):
        response = api_for(shop.users[i]).post(
            "/api/v1/checkout/",
            {"lines": [{"sku": shop.sku(i), "quantity": 1}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"void-{i}",
        )
        assert response.status_code == 201, response.content
    return list(Order.objects.order_by("id"))


def voids() -> list[str]:
    return [call["void"] for call in TestProvider.calls if "void" in call]


class FailingSecondVoid(TestProvider):
    def void(self, *, reference: str) -> None:
        if len(voids()) == 1:
            raise ConnectionError("provider down")
        super().void(reference=reference)


def test_each_due_authorization_is_voided_once_and_its_flag_cleared(shop, test_payments):
    orders = bought(shop, 8)
    due = orders[:5]
    Order.objects.filter(pk__in=[o.pk for o in due]).update(void_due=True)

    assert payments_void_due(batch=2) == 5
    assert payments_void_due() == 0

    assert sorted(voids()) == sorted(o.payment_reference for o in due)
    assert not Order.objects.filter(void_due=True).exists()


def test_a_provider_failure_keeps_what_was_not_voided_due_for_the_retry(
    shop, test_payments, settings
):
    orders = bought(shop, 3)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(void_due=True)
    test_payments.calls = []
    settings.PAYMENT_PROVIDER = f"{__name__}.FailingSecondVoid"

    with pytest.raises(ConnectionError):
        payments_void_due()

    assert voids() == [orders[0].payment_reference]
    assert list(Order.objects.filter(void_due=True).order_by("id")) == orders[1:]
    settings.PAYMENT_PROVIDER = "apps.orders.payments.TestProvider"
    assert payments_void_due() == 2
    assert voids() == [o.payment_reference for o in orders]


def test_an_order_without_a_reference_is_cleared_without_a_call(shop, test_payments):
    orders = bought(shop, 1)
    Order.objects.filter(pk=orders[0].pk).update(void_due=True, payment_reference="")
    test_payments.calls = []

    assert payments_void_due() == 1
    assert voids() == []
