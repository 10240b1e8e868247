"""The product list's page query, written by hand: one statement, no ORM compilation per request.

The ORM built and compiled the same few shapes of SELECT on every request (0.4 ms of the 1.4 ms an
uncached page cost in Python), and loaded every row's ``created_at`` as a datetime and every
price as a Decimal only to print them again. Here the SQL is assembled from fixed fragments, the
price comes as text (``numeric(12,2)`` prints two decimals) and ``created_at`` as microseconds
since the epoch (only the page's boundary rows need a datetime, for their cursors).
``apps/catalog/tests/test_listing.py`` checks it against the ORM queryset it replaces
(``selectors.product_list_queryset``) on generated filters, orderings and cursors.

The predicates on ``is_active``, ``price IS NOT NULL``, ``category_id``, ``currency`` and
``in_stock`` are spelled as the partial indexes of ``catalog_product`` expect them
(``product_*_idx``, see the catalog migrations): change them together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cachalot.api import cachalot_disabled
from django.db import connections
from django.db.models.sql import Query
from django.db.models.sql.compiler import MULTI, SQLCompiler

from apps.catalog.keyset import PRICE_ORDERINGS, PRODUCT_ORDERINGS
from apps.catalog.models import SEARCH_CONFIG, Product
from apps.core.keyset import Cursor, Page, page_of
from apps.core.routing import read_alias

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SELECT = (
    "SELECT p.id, p.slug, p.name, p.price::text, p.currency, p.in_stock,"
    " (extract(epoch FROM p.created_at) * 1000000)::bigint, c.slug, c.name, p.tag_slugs"
    " FROM catalog_product p JOIN catalog_category c ON c.id = p.category_id"
    " WHERE p.is_active AND p.price IS NOT NULL"
)
# Columns of the row tuples, in _SELECT's order.
_ID, _SLUG, _NAME, _PRICE, _CURRENCY, _IN_STOCK, _CREATED_US, _CAT_SLUG, _CAT_NAME, _TAGS = range(
    10
)
_SORT_INDEX = {"created_at": _CREATED_US, "price": _PRICE, "name": _NAME}


# The columns of _SELECT; not the trailing sort columns (a datetime and a Decimal per row to load).
_PAGE_FUNCTION = (
    "SELECT id, slug, name, price_text, currency, in_stock, created_us, category_slug,"
    " category_name, tag_slugs FROM catalog_product_page(%s, %s, %s::text, %s, %s)"
)


@dataclass(frozen=True)
class Where:
    """Filters already resolved to ids (``category_ids`` None: no category filter)."""

    category_ids: list[int] | None = None
    tag_id: int | None = None
    tag_filtered: bool = False
    currency: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    q: str | None = None


def page_query(
    where: Where, ordering_name: str, page_size: int, cursor: Cursor | None
) -> tuple[str, list[Any]]:
    """Return the SQL and parameters of one page (``page_size + 1`` rows, to see if more follow)."""
    if _unfiltered_forward(where, ordering_name, cursor):
        # Static queries with plans kept by the server (apps/catalog/sql/listing_page.sql).
        after = None if cursor is None else cursor.value
        return _PAGE_FUNCTION, [
            ordering_name,
            where.currency,
            after.isoformat() if isinstance(after, datetime) else after,
            None if cursor is None else cursor.pk,
            page_size + 1,
        ]
    sql = [_SELECT]
    params: list[Any] = []
    if where.category_ids is not None:
        if len(where.category_ids) == 1:
            sql.append(" AND p.category_id = %s")
            params.append(where.category_ids[0])
        else:
            sql.append(" AND p.category_id = ANY(%s)")
            params.append(where.category_ids)
    if where.tag_filtered:
        sql.append(
            " AND EXISTS (SELECT 1 FROM catalog_product_tags t"
            " WHERE t.product_id = p.id AND t.tag_id = %s)"
        )
        params.append(where.tag_id)
    if where.currency is not None:
        sql.append(" AND p.currency = %s")
        params.append(where.currency)
    if where.min_price is not None:
        sql.append(" AND p.price >= %s")
        params.append(where.min_price)
    if where.max_price is not None:
        sql.append(" AND p.price <= %s")
        params.append(where.max_price)
    if where.in_stock is not None:
        sql.append(" AND p.in_stock" if where.in_stock else " AND NOT p.in_stock")
    if where.q:
        sql.append(" AND p.search_vector @@ websearch_to_tsquery(%s::regconfig, %s)")
        params += [SEARCH_CONFIG, where.q]
    ordering = PRODUCT_ORDERINGS[ordering_name]
    backwards = cursor is not None and not cursor.forward
    descending = ordering.descending != backwards
    column = ordering.column  # one of _SORT_INDEX's names, never user input
    if cursor is not None:
        # A row comparison: PostgreSQL turns it into one index range condition on (column, id).
        sql.append(f" AND (p.{column}, p.id) {'<' if descending else '>'} (%s, %s)")
        params += [cursor.value, cursor.pk]
    direction = " DESC" if descending else ""
    sql.append(f" ORDER BY p.{column}{direction}, p.id{direction} LIMIT {int(page_size) + 1}")
    return "".join(sql), params


class _GivenSQLCompiler(SQLCompiler):
    """Run SQL assembled here through the ORM's ``execute_sql``: Silk records it, with EXPLAIN."""

    def __init__(self, sql: str, params: list[Any]) -> None:
        # The replica when the request may read from it (apps.core.routing), else the primary.
        alias = read_alias(Product)
        super().__init__(Query(Product), connections[alias], alias)
        self.has_extra_select = False
        self._given = (sql, params)

    def as_sql(self, with_limits: bool = True, with_col_aliases: bool = False):
        return self._given


def _unfiltered_forward(where: Where, ordering_name: str, cursor: Cursor | None) -> bool:
    """Tell whether catalog_product_page() serves this page: no filter (but the price
    orderings' currency), and the first page or one after a ``next`` cursor."""
    priced = ordering_name in PRICE_ORDERINGS
    return (
        replace(where, currency=None) == Where()
        and (where.currency is not None) == priced
        and (cursor is None or cursor.forward)
    )


def _sort_value(row: tuple, column: str) -> Any:
    value = row[_SORT_INDEX[column]]
    if column == "created_at":
        return _EPOCH + timedelta(microseconds=value)
    if column == "price":
        return Decimal(value)
    return value


def summary(row: tuple) -> dict[str, Any]:
    """Shape one row into the contract's product summary."""
    return {
        "slug": row[_SLUG],
        "name": row[_NAME],
        "category": {"slug": row[_CAT_SLUG], "name": row[_CAT_NAME]},
        "price": row[_PRICE],
        "currency": row[_CURRENCY],
        "in_stock": row[_IN_STOCK],
        "tags": row[_TAGS],
    }


def product_page(
    where: Where, ordering_name: str, page_size: int, cursor: Cursor | None
) -> tuple[list[dict[str, Any]], Page]:
    """Run the page query; return the summaries and the page's boundary cursors."""
    if where.category_ids == []:  # an unknown category: nothing to ask the database
        return [], Page(rows=[], next=None, previous=None)
    sql, params = page_query(where, ordering_name, page_size, cursor)
    # Past cachalot: it would file the result under catalog_product alone (it reads the tables
    # from the Query, which knows no join), and the response cache in front of this view is the
    # catalog's cache anyway.
    with cachalot_disabled():
        chunks = _GivenSQLCompiler(sql, params).execute_sql(MULTI)
    rows = [row for chunk in chunks for row in chunk]

    column = PRODUCT_ORDERINGS[ordering_name].column

    def boundary(row: tuple, forward: bool) -> Cursor:
        return Cursor(ordering_name, forward, _sort_value(row, column), row[_ID])

    page = page_of(rows, page_size, cursor, boundary)
    return [summary(row) for row in page.rows], page
