"""Price feed: set variant prices by SKU, one ``UPDATE ... FROM`` a COPYed batch per transaction.

Measured against ``bulk_update`` (benchmarks/import_orm.py, docs/imports.md): COPY + UPDATE FROM
was faster, so it is the one kept. The variant trigger then refreshes each product's listing
price (one rewrite per product whose lowest price changed: the dominant cost of a price feed).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from django.db import connection

from apps.catalog.imports import (
    ANALYZE_AFTER_ROWS,
    SKU_MAX,
    announce_products,
    catalog_analyze,
    sku_value,
)
from apps.core.bulk import values
from apps.core.bulk.copy import temp_table_copy
from apps.core.bulk.reader import Row
from apps.core.bulk.report import RowError, value_preview

PRICE_COLUMNS = ("sku", "price")


class PriceRow(NamedTuple):
    line: int
    sku: str
    price: Decimal


new_price_row = partial(tuple.__new__, PriceRow)  # skips NamedTuple's slow Python __new__


class PriceImporter:
    """Set variant prices by SKU; an unknown SKU is a rejected row."""

    name = "import_prices"
    columns = PRICE_COLUMNS

    def __init__(self) -> None:
        self.seen = values.SeenKeys()
        self.written = 0

    def validate(self, rows: list[Row]) -> tuple[list[PriceRow], list[RowError]]:
        """Parse each row; reject a SKU seen earlier in the file."""
        valid, errors = [], []
        seen, money_match = self.seen.add, values.PLAIN_MONEY_RE.match
        for line, fields in rows:
            sku, price = map(str.strip, fields)
            if 0 < len(sku) <= SKU_MAX and money_match(price):  # the common, valid shape
                row = new_price_row((line, sku, Decimal(price)))
            else:
                before = len(errors)
                row = new_price_row(
                    (
                        line,
                        values.checked(errors, line, "sku", sku_value, sku),
                        values.checked(errors, line, "price", values.money, price),
                    )
                )
                if len(errors) > before:
                    continue
            if seen(row.sku):
                valid.append(row)
            else:
                errors.append(values.duplicate(line, "sku", row.sku))
        return valid, errors

    def write(self, rows: Sequence[PriceRow]) -> list[RowError]:
        """Update one batch (the caller holds the transaction); return its unknown SKUs."""
        self.written += len(rows)
        temp_table_copy("_import_price", "line integer, sku text, price numeric", rows)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT line, sku FROM _import_price t"
                " WHERE NOT EXISTS (SELECT FROM catalog_variant v WHERE v.sku = t.sku OFFSET 0)"
            )
            unknown = [
                RowError(line, "sku", f"unknown sku {value_preview(sku)}")
                for line, sku in cursor.fetchall()
            ]
            # ANY(...) makes it one index scan in SKU order, the order every importer locks
            # variants in, rather than a hash join over the whole variant table.
            cursor.execute(
                "UPDATE catalog_variant v SET price = t.price FROM _import_price t"
                " WHERE v.sku = ANY (ARRAY(SELECT sku FROM _import_price)) AND v.sku = t.sku"
                " AND v.price <> t.price RETURNING v.product_id"
            )
            announce_products({product_id for (product_id,) in cursor.fetchall()})
        return unknown

    def finish(self) -> None:
        if self.written >= ANALYZE_AFTER_ROWS:
            catalog_analyze()
