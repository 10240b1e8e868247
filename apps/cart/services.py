"""Cart writes. Each locks the user's cart row, so concurrent adds from two tabs add up exactly."""

from collections.abc import Mapping

from django.conf import settings
from django.db import connection, transaction

from apps.cart.errors import CartFull, CartLineNotFound, CurrencyMismatch, QuantityLimit, UnknownSku
from apps.cart.models import Cart, CartLine
from apps.catalog.selectors import variant_sellable_by_sku


def _cart_lock(user) -> int:
    """Create the user's cart or lock the existing one; return its id. One upsert query.

    ``ON CONFLICT DO UPDATE`` takes the row lock in the same statement that creates the row, so
    there is no get-then-create race and no extra SELECT ... FOR UPDATE.
    """
    (cart,) = Cart.objects.bulk_create(
        [Cart(user=user)],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["updated_at"],
    )
    return cart.pk


def _check_quantity(quantity: int) -> None:
    limit = settings.CART_MAX_LINE_QUANTITY
    if quantity > limit:
        raise QuantityLimit(f"At most {limit} units per line.", limit=limit)


@transaction.atomic
def cart_line_add(user, *, sku: str, quantity: int) -> int:
    """Add ``quantity`` units of ``sku`` (to its line if there is one); return the line id."""
    variant = variant_sellable_by_sku([sku]).get(sku)
    if variant is None:
        raise UnknownSku(sku=sku)
    cart_id = _cart_lock(user)
    lines = list(
        CartLine.objects.filter(cart_id=cart_id).values_list(
            "id", "variant_id", "quantity", "variant__currency"
        )
    )
    for line_id, variant_id, current, _ in lines:
        if variant_id == variant.id:
            _check_quantity(current + quantity)
            CartLine.objects.filter(pk=line_id).update(quantity=current + quantity)
            return line_id
    _check_quantity(quantity)
    if len(lines) >= settings.CART_MAX_LINES:
        raise CartFull(f"A cart holds at most {settings.CART_MAX_LINES} lines.")
    if lines and lines[0][3] != variant.currency:
        raise CurrencyMismatch(currency=lines[0][3])
    return CartLine.objects.create(cart_id=cart_id, variant_id=variant.id, quantity=quantity).pk


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


# One statement: lower the lines that grew since the checkout read them, delete the others. Both
# parts see one snapshot and touch different rows; a line an add is still writing is waited for
# and re-checked (READ COMMITTED), and a line added after the read is not touched at all.
_TAKE = """
WITH taken(variant_id, quantity) AS (
    SELECT * FROM unnest(%(variants)s::bigint[], %(quantities)s::int[])
),
lowered AS (
    UPDATE cart_cartline l SET quantity = l.quantity - t.quantity
      FROM taken t, cart_cart c
     WHERE l.cart_id = c.id AND c.user_id = %(user)s AND l.variant_id = t.variant_id
       AND l.quantity > t.quantity
    RETURNING l.id
)
DELETE FROM cart_cartline l USING taken t, cart_cart c
 WHERE l.cart_id = c.id AND c.user_id = %(user)s AND l.variant_id = t.variant_id
   AND l.quantity <= t.quantity
"""


def cart_lines_take(user, taken: Mapping[int, int]) -> None:
    """Remove from the cart what an order bought from it (variant id -> units), nothing more.

    A line added, or raised, while the checkout ran stays in the cart: emptying the whole cart
    deleted it without it being bought. Inside the caller's transaction (the checkout's).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _TAKE,
            {"variants": list(taken), "quantities": list(taken.values()), "user": user.pk},
        )
