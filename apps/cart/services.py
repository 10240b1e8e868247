"""Cart writes. Adding locks the user's cart row, so concurrent adds from two tabs add up exactly.

Adding a line and taking what an order bought are server-side functions
(``apps/cart/sql/cart.sql``): one round trip each.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.cart.errors import CartFull, CartLineNotFound, CurrencyMismatch, QuantityLimit, UnknownSku
from apps.cart.models import Cart, CartLine
from apps.cart.selectors import cart_payload
from apps.core.db_functions import Refusal, db_call

ADD_SQL = "SELECT cart_line_add(%s, %s, %s, %s, %s)"
TAKE_SQL = "SELECT cart_lines_take(%s, %s::bigint[], %s::integer[])"


@dataclass(frozen=True, slots=True)
class CartLineAdded:
    line_id: int
    cart: dict[str, Any]  # the whole cart as the API shows it


def _check_quantity(quantity: int) -> None:
    limit = settings.CART_MAX_LINE_QUANTITY
    if quantity > limit:
        raise QuantityLimit(f"At most {limit} units per line.", limit=limit)


def cart_line_add(user, *, sku: str, quantity: int) -> CartLineAdded:
    """Add ``quantity`` units of ``sku`` (to its line if there is one); return it and the cart."""
    _check_quantity(quantity)
    limits = [settings.CART_MAX_LINE_QUANTITY, settings.CART_MAX_LINES]
    try:
        added = db_call(ADD_SQL, [user.pk, sku, quantity, *limits])
    except Refusal as refusal:
        raise _cart_error(refusal, sku) from None
    rows = [(pk, sku, qty, Decimal(price), cur) for pk, sku, qty, price, cur in added["lines"]]
    return CartLineAdded(added["line_id"], cart_payload(rows))


def _cart_error(refusal: Refusal, sku: str) -> Exception:
    if refusal.code == "unknown_sku":
        return UnknownSku(sku=sku)
    if refusal.code == "quantity_limit":
        limit = settings.CART_MAX_LINE_QUANTITY
        return QuantityLimit(f"At most {limit} units per line.", limit=limit)
    if refusal.code == "cart_full":
        return CartFull(f"A cart holds at most {settings.CART_MAX_LINES} lines.")
    if refusal.code == "currency_mismatch":
        return CurrencyMismatch(currency=refusal.data)
    return refusal


@transaction.atomic
def cart_line_update(user, *, line_id: int, quantity: int) -> None:
    """Set a line's quantity (the user's own lines only)."""
    _check_quantity(quantity)
    if not CartLine.objects.filter(pk=line_id, cart__user=user).update(quantity=quantity):
        raise CartLineNotFound()


@transaction.atomic
def cart_line_remove(user, *, line_id: int) -> None:
    """Delete one of the user's lines."""
    deleted, _ = CartLine.objects.filter(pk=line_id, cart__user=user).delete()
    if not deleted:
        raise CartLineNotFound()


def cart_lines_take(user, taken: Mapping[int, int]) -> None:
    """Remove from the cart what an order bought from it (variant id -> units), nothing more.

    A line added, or raised, while the checkout ran stays in the cart: emptying the whole cart
    deleted it without it being bought. Inside the caller's transaction (the checkout's).
    """
    db_call(TAKE_SQL, [user.pk, list(taken), list(taken.values())])


def carts_purge(*, older_than_days: float | None = None) -> int:
    """Delete carts nobody touched for ``CART_ABANDONED_DAYS``, lines included; return how many."""
    days = settings.CART_ABANDONED_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    _, by_model = Cart.objects.filter(updated_at__lt=cutoff).delete()
    return by_model.get(Cart._meta.label, 0)
