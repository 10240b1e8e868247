"""The orders app's stocked shop, reused for the cart: 12 SKUs, 10 buyers with tokens."""

import pytest
from rest_framework.test import APIClient

from apps.cart.models import CartLine
from apps.orders.tests.shops import Shop, api_for, shop_build

__all__ = ["Shop", "api_for", "cart_line_id", "shop"]


@pytest.fixture
def shop(db) -> Shop:
    return shop_build()


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def cart_line_id(user, sku: str) -> int:
    """Return the id of the user's line for ``sku`` (read straight from the table)."""
    return CartLine.objects.values_list("pk", flat=True).get(cart__user=user, variant__sku=sku)
