"""The lock order of stock rows: always ``SELECT ... FOR UPDATE`` in primary-key order.

Checkout and cancellation lock in SQL (``apps/inventory/sql/stock.sql``,
``ORDER BY id FOR UPDATE``) and the stock feed over its batch table (``feeds.py``), in this same
order; these functions are the rule's Python form, for Python callers. Locking in one global
order means two transactions can wait for each other but never deadlock, whatever order the
buyer's lines came in.
"""

from collections.abc import Iterable

from django.db import connection

from apps.inventory.models import Stock


def _require_transaction() -> None:
    # A lock outside a transaction is released by the very statement that takes it.
    if not connection.in_atomic_block:
        raise RuntimeError("stock rows can only be locked inside transaction.atomic()")


def stock_lock_for_variants(variant_ids: Iterable[int]) -> list[tuple[int, int, int, int]]:
    """Lock every stock row of these variants; return (stock_id, variant_id, quantity, priority).

    One query. Rows come in pk order (the lock order); ``priority`` is the warehouse's, read
    through a join that locks only the stock rows (``FOR UPDATE OF``).
    """
    _require_transaction()
    return list(
        Stock.objects.select_for_update(of=("self",))
        .filter(variant_id__in=list(variant_ids))
        .order_by("pk")
        .values_list("pk", "variant_id", "quantity", "warehouse__priority")
    )


def stock_lock_rows(stock_ids: Iterable[int]) -> dict[int, int]:
    """Lock these stock rows in pk order; return {stock_id: quantity}. One query."""
    _require_transaction()
    return dict(
        Stock.objects.select_for_update()
        .filter(pk__in=list(stock_ids))
        .order_by("pk")
        .values_list("pk", "quantity")
    )
