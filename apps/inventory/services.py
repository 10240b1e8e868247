"""Stock writes: allocate units to an order and give them back, under pk-ordered row locks.

Both functions run inside the caller's transaction (the order's), and keep the time the stock rows
stay locked to two statements: the lock, then one statement that updates every row and writes the
ledger. That statement's SQL is fixed text with array parameters: no ORM compiling under the lock.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from apps.inventory.errors import InsufficientStock
from apps.inventory.locks import stock_lock_for_variants, stock_lock_rows
from apps.inventory.models import Stock, StockMovement


@dataclass(frozen=True, slots=True)
class StockDemand:
    variant_id: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockChange:
    """Units moved per stock row, and whether any row crossed zero (in_stock may have changed)."""

    units: dict[int, int]
    crossed_zero: bool


def stock_allocate(demands: Sequence[StockDemand], *, order_id: int) -> StockChange:
    """Lock, re-check and decrement the stock for ``demands``; return the units taken per row.

    Each variant is served from its warehouses in priority order (lower ``Warehouse.priority``
    first, then the older stock row), splitting a line across warehouses when one is not enough.
    Raises ``InsufficientStock`` listing every short line, having changed nothing.
    """
    variant_ids = [d.variant_id for d in demands]
    if len(set(variant_ids)) != len(variant_ids):
        raise ValueError("stock_allocate needs one demand per variant")
    rows_by_variant: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for stock_id, variant_id, quantity, priority in stock_lock_for_variants(variant_ids):
        rows_by_variant[variant_id].append((priority, stock_id, quantity))

    taken: dict[int, int] = {}
    shortages = []
    for demand in demands:
        rows = sorted(rows_by_variant.get(demand.variant_id, ()))
        available = sum(quantity for _, _, quantity in rows if quantity > 0)
        if available < demand.quantity:
            shortages.append(
                {"sku": demand.sku, "requested": demand.quantity, "available": available}
            )
            continue
        remaining = demand.quantity
        for _, stock_id, quantity in rows:
            if remaining == 0:
                break
            take = min(quantity, remaining)
            if take > 0:
                taken[stock_id] = take
                remaining -= take
    if shortages:
        raise InsufficientStock(shortages)
    crossed = _stock_apply(
        {stock_id: -units for stock_id, units in taken.items()},
        reason=StockMovement.Reason.SALE,
        order_id=order_id,
    )
    return StockChange(taken, crossed)


def stock_release(order_id: int, *, reason: str) -> StockChange:
    """Return every unit ``order_id`` took to the rows it came from, with the units per row.

    The caller guarantees "once" with the order's row lock and status; the partial unique index
    ``stockmove_one_return_per_row`` makes a second return fail in the database as well.
    """
    returned: dict[int, int] = defaultdict(int)
    for stock_id, delta in StockMovement.objects.filter(
        order_id=order_id, reason=StockMovement.Reason.SALE
    ).values_list("stock_id", "delta"):
        returned[stock_id] -= delta
    crossed = False
    if returned:
        stock_lock_rows(returned)
        crossed = _stock_apply(returned, reason=reason, order_id=order_id)
    return StockChange(dict(returned), crossed)


# The final SELECT reports how many rows changed (for the sanity check) and whether any crossed
# zero, which tells the cache layer whether product listings may have changed.
_APPLY_SQL = f"""
WITH deltas (stock_id, delta) AS (SELECT * FROM unnest(%s::bigint[], %s::integer[])),
     changed AS (
        UPDATE {Stock._meta.db_table} AS s SET quantity = s.quantity + deltas.delta
          FROM deltas WHERE s.id = deltas.stock_id
        RETURNING s.id, s.quantity, deltas.delta),
     logged AS (
        INSERT INTO {StockMovement._meta.db_table} (stock_id, delta, reason, order_id)
        SELECT changed.id, changed.delta, %s, %s FROM changed)
SELECT count(*), coalesce(bool_or((quantity > 0) <> (quantity - delta > 0)), false) FROM changed
"""


def _stock_apply(deltas: dict[int, int], *, reason: str, order_id: int | None) -> bool:
    """Add ``deltas`` to their rows and record them in the ledger, in one statement.

    Return whether a row crossed zero.
    """
    stock_ids = list(deltas)
    with connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, [stock_ids, [deltas[pk] for pk in stock_ids], reason, order_id])
        changed, crossed = cursor.fetchone()
    # The caller holds these rows' locks, so none can vanish; a mismatch is a bug.
    if changed != len(stock_ids):
        raise RuntimeError(f"stock rows changed under their lock: {stock_ids}")
    return crossed
