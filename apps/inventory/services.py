"""Stock writes: allocate units to an order and give them back, under pk-ordered row locks.

Both run as one server-side statement each (``apps/inventory/sql/stock.sql``), inside the
caller's transaction if there is one: lock the rows in pk order, re-check, then update every row
and write the ledger. The rows stay locked from that statement to the caller's commit.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from apps.core.db_functions import Refusal, db_call
from apps.inventory.errors import InsufficientStock

ALLOCATE_SQL = "SELECT inventory_stock_allocate(%s, %s::bigint[], %s::integer[], %s::text[])"
RELEASE_SQL = "SELECT inventory_stock_release_orders(%s::bigint[], %s)"


@dataclass(frozen=True, slots=True)
class StockDemand:
    variant_id: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockChange:
    """Units moved per stock row, whether any row crossed zero (in_stock may have changed), and
    the products concerned (set when the caller did not know them)."""

    units: dict[int, int]
    crossed_zero: bool
    product_slugs: list[str] = field(default_factory=list)


def _change(result: dict) -> StockChange:
    units = {int(stock_id): units for stock_id, units in result["units"].items()}
    return StockChange(units, result["crossed_zero"], result.get("product_slugs", []))


def stock_allocate(demands: Sequence[StockDemand], *, order_id: int) -> StockChange:
    """Lock, re-check and decrement the stock for ``demands``; return the units taken per row.

    Each variant is served from its warehouses in priority order (lower ``Warehouse.priority``
    first, then the older stock row), splitting a line across warehouses when one is not enough.
    Raises ``InsufficientStock`` listing every short line, having changed nothing.
    """
    variant_ids = [d.variant_id for d in demands]
    if len(set(variant_ids)) != len(variant_ids):
        raise ValueError("stock_allocate needs one demand per variant")
    params = [order_id, variant_ids, [d.quantity for d in demands], [d.sku for d in demands]]
    try:
        return _change(db_call(ALLOCATE_SQL, params))
    except Refusal as refusal:
        raise InsufficientStock(refusal.data) from None


def stock_release(order_id: int, *, reason: str) -> StockChange:
    """Return every unit ``order_id`` took to the rows it came from, with the units per row.

    The caller guarantees "once" with the order's row lock and status; the partial unique index
    ``stockmove_one_return_per_row`` makes a second return fail in the database as well.
    """
    return stock_release_orders([order_id], reason=reason)


def stock_release_orders(order_ids: Sequence[int], *, reason: str) -> StockChange:
    """``stock_release`` for a batch of orders, in one statement."""
    return _change(db_call(RELEASE_SQL, [list(order_ids), reason]))
