"""Keyset (cursor) pagination over a (sort column, id) pair: no OFFSET, constant cost per page.

A cursor is an opaque url-safe string encoding the ordering, the direction and the position of the
boundary row. It continues the list it came from: its own ordering wins over a different
``ordering`` parameter beside it (a page link can never be made inconsistent by hand).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from rest_framework.utils.urls import replace_query_param

from apps.core.errors import InvalidQuery


@dataclass(frozen=True)
class Ordering:
    column: str  # model field and table column (same name here)
    descending: bool
    parse: Any  # turns the JSON form of a boundary value back into a Python value

    def order_by(self, reverse: bool = False) -> tuple[str, str]:
        desc = self.descending != reverse
        prefix = "-" if desc else ""
        return (f"{prefix}{self.column}", f"{prefix}id")


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive datetime")
    # PostgreSQL refuses UTC offsets beyond +-15:59 (a DataError, i.e. a 500): send UTC.
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime out of range") from None


def parse_decimal(value: str) -> Decimal:
    parsed = Decimal(value)
    if not parsed.is_finite():
        raise ValueError("not finite")
    # Beyond PostgreSQL's numeric range (1e999999, 1e-999999) the query fails: a 500.
    if parsed.adjusted() > 100 or parsed.as_tuple().exponent < -100:
        raise ValueError("out of range")
    return parsed


def parse_text(value: str) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not text")
    return value


@dataclass(frozen=True)
class Cursor:
    ordering: str
    forward: bool  # True: the rows after the boundary; False: the rows before it
    value: Any
    pk: int

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else str(self.value)
        raw = orjson.dumps([self.ordering, 1 if self.forward else 0, value, self.pk])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, token: str, orderings: dict[str, Ordering]) -> Cursor:
        """Parse ``token``, a cursor for one of ``orderings``; a 400 for anything else."""
        invalid = InvalidQuery("Invalid cursor.", fields={"cursor": ["Invalid cursor."]})
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            ordering, forward, value, pk = orjson.loads(raw)
            if ordering not in orderings or forward not in (0, 1):
                raise ValueError("not a cursor of this list")
            if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
                raise ValueError("bad id")
            parsed = orderings[ordering].parse(value)
        except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError, InvalidOperation):
            raise invalid from None
        return cls(ordering, bool(forward), parsed, pk)


def _after(queryset: QuerySet, ordering: Ordering, cursor: Cursor, reverse: bool) -> QuerySet:
    # A row comparison, so PostgreSQL turns it into one index range condition on (column, id).
    table = queryset.model._meta.db_table
    operator = "<" if ordering.descending != reverse else ">"
    condition = RawSQL(
        f'("{table}"."{ordering.column}", "{table}"."id") {operator} (%s, %s)',
        (cursor.value, cursor.pk),
        output_field=BooleanField(),
    )
    return queryset.filter(condition)


@dataclass
class Page:
    rows: list[dict]
    next: Cursor | None
    previous: Cursor | None


def keyset_page(
    queryset: QuerySet,
    orderings: dict[str, Ordering],
    ordering_name: str,
    page_size: int,
    cursor: Cursor | None,
) -> Page:
    """Fetch one page of ``queryset`` (a ``.values()`` queryset that includes the sort column)."""
    ordering = orderings[ordering_name]
    backwards = cursor is not None and not cursor.forward
    if cursor is not None:
        queryset = _after(queryset, ordering, cursor, reverse=backwards)
    rows = list(queryset.order_by(*ordering.order_by(reverse=backwards))[: page_size + 1])
    return page_of(
        rows,
        page_size,
        cursor,
        lambda row, forward: Cursor(ordering_name, forward, row[ordering.column], row["id"]),
    )


def page_of(
    rows: list, page_size: int, cursor: Cursor | None, boundary: Callable[[Any, bool], Cursor]
) -> Page:
    """Make a page of ``rows`` (up to ``page_size + 1``, fetched in the cursor's direction).

    ``boundary(row, forward)`` gives the cursor that continues the list after (or before) a row.
    """
    backwards = cursor is not None and not cursor.forward
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    has_next = has_more if not backwards else True
    has_previous = has_more if backwards else cursor is not None
    return Page(
        rows=rows,
        next=boundary(rows[-1], True) if rows and has_next else None,
        previous=boundary(rows[0], False) if rows and has_previous else None,
    )


def page_body(url: str, page: Page, results: list) -> dict[str, Any]:
    """Render a page as the contract's list body, with ``next``/``previous`` links on ``url``."""

    def link(boundary: Cursor | None) -> str | None:
        return None if boundary is None else replace_query_param(url, "cursor", boundary.encode())

    return {"next": link(page.next), "previous": link(page.previous), "results": results}
