"""The sales report: revenue, orders and units of paid orders per day and per SKU, in one query.

One statement with ``GROUPING SETS`` gives the rows per (currency, day), per (currency, SKU) and
per currency, in that order; the writers stream them out as they come. A longer period adds
rows, never queries. An order counts on the day it was placed (UTC) once it is paid (``paid`` or
``fulfilled``): a pending payment, a failed, expired or cancelled order is no sale.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO

from django.db import connection

from apps.orders.models import Order

SOLD = (Order.Status.PAID, Order.Status.FULFILLED)
COLUMNS = ("kind", "day", "sku", "currency", "orders", "units", "revenue")
FETCH_ROWS = 2000

REPORT_SQL = """
SELECT CASE WHEN grouping(d.day) = 0 THEN 'day' WHEN grouping(d.sku) = 0 THEN 'sku'
            ELSE 'total' END AS kind,
       d.day, d.sku, d.currency,
       count(DISTINCT d.order_id) AS orders, sum(d.quantity) AS units,
       sum(d.line_total) AS revenue
  FROM (SELECT o.id AS order_id, o.currency, (o.created_at AT TIME ZONE 'UTC')::date AS day,
               l.sku, l.quantity, l.line_total
          FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id
         WHERE o.status = ANY (%s) AND o.created_at >= %s AND o.created_at < %s) d
 GROUP BY GROUPING SETS ((d.currency, d.day), (d.currency, d.sku), (d.currency))
 ORDER BY grouping(d.day), grouping(d.sku), d.day, d.sku, d.currency
"""


@dataclass(frozen=True, slots=True)
class ReportRow:
    kind: str  # day, sku or total
    day: date | None
    sku: str | None
    currency: str
    orders: int
    units: int
    revenue: str  # two decimals

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "day": self.day.isoformat() if self.day else None,
            "sku": self.sku,
            "currency": self.currency,
            "orders": self.orders,
            "units": self.units,
            "revenue": self.revenue,
        }


def sales_rows(first: date, last: date) -> Iterator[ReportRow]:
    """Yield the report's rows for the days ``first`` to ``last`` (inclusive, UTC); one query."""
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(REPORT_SQL, [list(SOLD), start, end])
        while rows := cursor.fetchmany(FETCH_ROWS):
            for kind, day, sku, currency, orders, units, revenue in rows:
                yield ReportRow(kind, day, sku, currency, orders, units, f"{revenue:.2f}")


def csv_write(rows: Iterator[ReportRow], out: IO[str], seen: Callable[[ReportRow], None]) -> int:
    """Write ``rows`` as CSV (one header line); return how many."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        data = row.as_dict()
        writer.writerow(["" if data[c] is None else data[c] for c in COLUMNS])
        seen(row)
        count += 1
    return count


def json_write(
    rows: Iterator[ReportRow], out: IO[str], seen: Callable[[ReportRow], None], period: dict
) -> int:
    """Write ``{"from", "to", "days": [...], "skus": [...], "totals": [...]}``, row by row."""
    out.write(json.dumps(period)[:-1])
    sections = {"day": "days", "sku": "skus", "total": "totals"}
    opened: list[str] = []
    count = 0
    for row in rows:
        section = sections[row.kind]
        if not opened or opened[-1] != section:
            out.write("]" if opened else "")
            out.write(f', "{section}": [')
            opened.append(section)
        else:
            out.write(", ")
        data = row.as_dict()
        del data["kind"]
        out.write(json.dumps(data))
        seen(row)
        count += 1
    out.write("]" if opened else "")
    for section in sections.values():
        if section not in opened:
            out.write(f', "{section}": []')
    out.write("}\n")
    return count
