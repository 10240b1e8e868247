"""Cart reads: one query for the whole cart, whatever its number of lines."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.cart.models import CartLine


def cart_detail(user) -> dict[str, Any]:
    """Return the user's cart priced at today's variant prices (an empty cart if none yet)."""
    rows = (
        CartLine.objects.filter(cart__user=user)
        .order_by("created_at", "id")
        .values_list("id", "variant__sku", "quantity", "variant__price", "variant__currency")
    )
    return cart_payload(rows)


def cart_payload(rows: Iterable[tuple[int, str, int, Decimal, str]]) -> dict[str, Any]:
    """Render (id, sku, quantity, unit price, currency) rows, oldest first, as the API's cart."""
    lines = []
    total = Decimal("0.00")
    currency = settings.SHOP_CURRENCY
    for line_id, sku, quantity, price, line_currency in rows:
        line_total = price * quantity
        total += line_total
        currency = line_currency
        lines.append(
            {
                "id": line_id,
                "sku": sku,
                "quantity": quantity,
                "unit_price": f"{price:.2f}",
                "line_total": f"{line_total:.2f}",
            }
        )
    return {"lines": lines, "total": f"{total:.2f}", "currency": currency}


def cart_items(user) -> list[tuple[str, int]]:
    """Return the cart's (sku, quantity) pairs, oldest line first. 1 query."""
    return list(
        CartLine.objects.filter(cart__user=user)
        .order_by("created_at", "id")
        .values_list("variant__sku", "quantity")
    )
