"""Stock feeds: set on-hand quantities from a warehouse export without racing live checkouts.

The problem: a feed file says "SKU x has 40 units in eu-west" as of some moment. While the feed
runs (seconds to minutes), checkouts keep selling and cancellations keep returning units. Writing
40 blindly would overwrite a decrement that committed meanwhile, and the shop could sell units
it no longer has.

The design, "apply the movements that committed while the feed ran":

1. At the start of the run, take ``pg_current_snapshot()`` in autocommit, as its own statement.
   It tells, for any transaction id, whether that transaction had committed before the feed began.
2. For each batch, in one transaction (the batch is COPYed into a temporary table):
   a. without locks, resolve SKUs and stock rows and drop the rows that already hold their
      target (``quantity = feed + moved``, see below): they need no lock and no write, which
      makes a repeated feed cheap. This is safe because every change the shop makes to a row
      adds the same delta to ``quantity`` and to ``moved`` in one transaction, so a row equal
      to its target stays equal until the feed would have written it;
   b. lock the remaining existing rows ``ORDER BY id FOR UPDATE`` (pk order, the global lock
      order of ``apps.inventory.locks``; written here as SQL over the batch's temporary table,
      which the ORM helpers there cannot express);
   c. then, in a later statement (so it sees every checkout that committed while the feed waited
      for those locks), set ``quantity = GREATEST(0, feed quantity + sum of the StockMovement
      deltas of that row whose transaction committed after the snapshot)``, i.e. movements with
      ``txid >= pg_snapshot_xmin(snap)`` that ``pg_visible_in_snapshot`` says the snapshot did not
      see;
   d. insert the missing (variant, warehouse) rows with the feed quantity (a row that did not
      exist has no movements).
3. A checkout that starts after a batch locked its rows waits, then decrements the new quantity.
   Two writers may apply different batches at once (``apps.core.bulk.parallel``): their rows
   are disjoint, and each locks its own in pk order.

So a decrement that committed while the feed ran is never overwritten, a movement committed
before the feed started is not re-applied (the file already reflects it), and right after a feed
with no concurrent checkouts a variant's available units are the sum of the feed's quantities.
Each stock row is in one batch only (a repeated (sku, warehouse) pair is a rejected row), so no
movement is counted twice. ``GREATEST(0, ...)`` keeps the ``quantity >= 0`` constraint when the
shop sold more than the file says is left: the units are gone either way.

Alternative considered: applying the file as deltas against the previous feed needs the previous
feed stored per row and breaks on the first feed and on manual corrections; locking every row of
the whole file at once would block checkouts for the whole run.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from django.db import connection, transaction

from apps.catalog.cache import catalog_invalidate_products
from apps.catalog.models import Variant
from apps.core.bulk import values
from apps.core.bulk.copy import temp_table_copy
from apps.core.bulk.reader import Row
from apps.core.bulk.report import RowError, value_preview
from apps.inventory.models import Stock, StockMovement, Warehouse

STOCK_COLUMNS = ("sku", "warehouse", "quantity")
SKU_MAX = Variant._meta.get_field("sku").max_length
sku_value = partial(values.text, max_length=SKU_MAX)


class StockRow(NamedTuple):
    line: int
    sku: str
    warehouse_id: int
    quantity: int


new_stock_row = partial(tuple.__new__, StockRow)  # skips NamedTuple's slow Python __new__


def stock_feed_snapshot() -> str:
    """Return the current snapshot as text: take it in autocommit, right before the feed."""
    # Its own statement: under READ COMMITTED (Django's default) it is the snapshot of this very
    # moment, not of some earlier transaction start.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return cursor.fetchone()[0]


MOVED_SINCE_SNAPSHOT = f"""
    SELECT sum(m.delta) AS delta FROM {StockMovement._meta.db_table} m
     WHERE m.stock_id = s.id
       AND m.txid >= pg_snapshot_xmin(%(snap)s::pg_snapshot)::text::bigint
       AND NOT pg_visible_in_snapshot(m.txid::text::xid8, %(snap)s::pg_snapshot)"""

# One pass over the batch, no locks: resolve SKUs and stock rows and keep only the rows that need
# something (unknown SKU, missing stock row, or a quantity to change). ``quantity = feed + moved``
# stays true once true (every shop change to a row adds the same delta to both sides, in one
# transaction), so such a row needs neither a lock nor a write: a feed that repeats most
# quantities costs little more than this read. A clamped target (feed + moved < 0) is never
# skipped. LATERAL with LIMIT 1 keeps every lookup an index probe, whatever the statistics.
RESOLVE_SQL = f"""
CREATE TEMPORARY TABLE _feed_todo ON COMMIT DROP AS
SELECT f.line, f.sku, f.warehouse_id, f.quantity, v.id AS variant_id, v.product_id,
       s.id AS stock_id
  FROM _feed_stock f
  LEFT JOIN LATERAL (SELECT id, product_id FROM catalog_variant WHERE sku = f.sku LIMIT 1) v
    ON true
  LEFT JOIN LATERAL (SELECT id, quantity FROM inventory_stock
                      WHERE variant_id = v.id AND warehouse_id = f.warehouse_id LIMIT 1) s
    ON true
  LEFT JOIN LATERAL ({MOVED_SINCE_SNAPSHOT}) moved ON s.id IS NOT NULL
 WHERE s.id IS NULL OR s.quantity <> f.quantity + COALESCE(moved.delta, 0)"""

UNKNOWN_SQL = "SELECT line, sku FROM _feed_todo WHERE variant_id IS NULL"
CHANGED_IDS = "ARRAY(SELECT stock_id FROM _feed_todo WHERE stock_id IS NOT NULL)"

# The rows to change, locked in pk order (the global lock order of apps.inventory.locks).
LOCK_SQL = f"SELECT id FROM inventory_stock WHERE id = ANY({CHANGED_IDS}) ORDER BY id FOR UPDATE"

# A later statement than the lock: its snapshot includes every movement that committed while
# this transaction waited for the locks. ``id = ANY`` keeps it an index scan of the batch's rows.
UPDATE_SQL = f"""
UPDATE inventory_stock AS s SET quantity = GREATEST(0, t.quantity + COALESCE(moved.delta, 0))
  FROM _feed_todo t
  LEFT JOIN LATERAL ({MOVED_SINCE_SNAPSHOT.replace("s.id", "t.stock_id")}) moved ON true
 WHERE s.id = ANY({CHANGED_IDS}) AND s.id = t.stock_id"""

# A row that did not exist has no movements: it gets the feed's quantity.
INSERT_SQL = """
INSERT INTO inventory_stock (variant_id, warehouse_id, quantity)
SELECT variant_id, warehouse_id, quantity FROM _feed_todo
 WHERE stock_id IS NULL AND variant_id IS NOT NULL
 ORDER BY variant_id, warehouse_id
ON CONFLICT (variant_id, warehouse_id) DO UPDATE SET quantity = EXCLUDED.quantity"""

CHANGED_PRODUCTS_SQL = "SELECT DISTINCT product_id FROM _feed_todo WHERE variant_id IS NOT NULL"


class StockFeed:
    """Set sellable quantities per (sku, warehouse code); see the module docstring for races."""

    name = "import_stock"
    columns = STOCK_COLUMNS
    # Rows per transaction unless --batch-size says otherwise. With HOT updates (fillfactor 50,
    # inventory migration 0005) a 10,000-row batch holds its row locks ~50 ms, less than a
    # 5,000-row batch did with full pages (~100-250 ms); 200,000 rows, every quantity changed,
    # interleaved: 5,000 87-96k rows/s, 10,000 97-101k, 20,000 102-110k.
    batch_size = 10_000

    def __init__(self, snapshot: str | None = None) -> None:
        self.snapshot = snapshot or stock_feed_snapshot()
        self.warehouses = dict(Warehouse.objects.values_list("code", "id"))
        self.seen = values.SeenKeys()

    def validate(self, rows: list[Row]) -> tuple[list[StockRow], list[RowError]]:
        """Parse each row; reject unknown warehouses and a (sku, warehouse) seen earlier."""
        valid, errors = [], []
        warehouses, seen = self.warehouses, self.seen.add
        for line, fields in rows:
            sku, code, raw = map(str.strip, fields)
            warehouse_id = warehouses.get(code)
            if (  # the common, valid shape: no need for the full checks
                0 < len(sku) <= SKU_MAX
                and warehouse_id is not None
                and raw.isascii()
                and raw.isdigit()
                and len(raw) < 10
            ):
                units = int(raw)
            else:
                before = len(errors)
                sku = values.checked(errors, line, "sku", sku_value, sku)
                if warehouse_id is None:
                    reason = f"unknown warehouse {value_preview(code)}"
                    errors.append(RowError(line, "warehouse", reason))
                units = values.checked(errors, line, "quantity", values.quantity, raw)
                if len(errors) > before:
                    continue
            if seen((sku, warehouse_id)):
                valid.append(new_stock_row((line, sku, warehouse_id, units)))
            else:
                errors.append(values.duplicate(line, "sku", sku, f" for warehouse {code}"))
        return valid, errors

    def write(self, rows: list[StockRow]) -> list[RowError]:
        """Apply one batch (the caller holds the transaction); return its unknown SKUs."""
        temp_table_copy(
            "_feed_stock", "line integer, sku text, warehouse_id bigint, quantity integer", rows
        )
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS pg_temp._feed_todo")  # see temp_table_copy
            cursor.execute(RESOLVE_SQL, {"snap": self.snapshot})
            if cursor.rowcount == 0:
                return []  # the usual case for a repeated feed: nothing to lock or write
            cursor.execute(UNKNOWN_SQL)
            unknown = [
                RowError(line, "sku", f"unknown sku {value_preview(sku)}")
                for line, sku in cursor.fetchall()
            ]
            cursor.execute(LOCK_SQL)
            cursor.execute(UPDATE_SQL, {"snap": self.snapshot})
            cursor.execute(INSERT_SQL)
            cursor.execute(CHANGED_PRODUCTS_SQL)
            pks = frozenset(product_id for (product_id,) in cursor.fetchall())
        if pks:
            # in_stock and prices follow by triggers; the cached catalog after the commit.
            transaction.on_commit(partial(catalog_invalidate_products, pks, listing=True))
        return unknown

    def finish(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Stock._meta.db_table}")
