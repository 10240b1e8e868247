"""A stocked shop and its buyers: 12 SKUs over 2 warehouses, 10 users with tokens."""

import pytest

from apps.orders.payments import TestProvider
from apps.orders.tests.shops import Shop, shop_build


@pytest.fixture
def shop(db) -> Shop:
    return shop_build()


@pytest.fixture
def test_payments(settings):
    """Route payments through the TestProvider, reset before and after the test."""
    settings.PAYMENT_PROVIDER = "apps.orders.payments.TestProvider"
    TestProvider.reset()
    yield TestProvider
    TestProvider.reset()
