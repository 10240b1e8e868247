"""Order reads, owner-only, in a constant number of queries; and the one order JSON shape."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from apps.core.keyset import Cursor, Ordering, Page, keyset_page, parse_datetime
from apps.orders.errors import OrderNotFound
from apps.orders.models import Order, OrderLine

ORDER_ORDERINGS = {"-created_at": Ordering("created_at", True, parse_datetime)}
ORDER_COLUMNS = ("id", "number", "status", "total", "currency", "created_at", "expires_at")
LINE_COLUMNS = ("order_id", "sku", "quantity", "unit_price", "line_total")


def line_payload(sku: str, quantity: int, unit_price, line_total) -> dict[str, Any]:
    return {
        "sku": sku,
        "quantity": quantity,
        "unit_price": f"{unit_price:.2f}",
        "line_total": f"{line_total:.2f}",
    }


def order_payload(order: dict[str, Any], lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Render an order (a dict of ORDER_COLUMNS) and its rendered lines as the API shows it."""
    return {
        "number": order["number"],
        "status": order["status"],
        "lines": list(lines),
        "total": f"{order['total']:.2f}",
        "currency": order["currency"],
        "created_at": _iso(order["created_at"]),
        "expires_at": _iso(order["expires_at"]) if order["expires_at"] else None,
    }


def _iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def order_as_row(order: Order) -> dict[str, Any]:
    return {column: getattr(order, column) for column in ORDER_COLUMNS}


def _lines_by_order(order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for order_id, *line in (
        OrderLine.objects.filter(order_id__in=order_ids).order_by("id").values_list(*LINE_COLUMNS)
    ):
        grouped[order_id].append(line_payload(*line))
    return grouped


def order_list(user, page_size: int, cursor: Cursor | None) -> tuple[list[dict], Page]:
    """Return one page of the user's orders, newest first, with their lines. 2 queries."""
    page = keyset_page(
        Order.objects.filter(user=user).values(*ORDER_COLUMNS),
        ORDER_ORDERINGS,
        "-created_at",
        page_size,
        cursor,
    )
    lines = _lines_by_order([row["id"] for row in page.rows]) if page.rows else {}
    return [order_payload(row, lines.get(row["id"], [])) for row in page.rows], page


def order_detail(user, number: str) -> dict[str, Any]:
    """Return one of the user's orders; another user's order is a 404. 2 queries."""
    row = Order.objects.filter(user=user, number=number).values(*ORDER_COLUMNS).first()
    if row is None:
        raise OrderNotFound()
    return order_payload(row, _lines_by_order([row["id"]]).get(row["id"], []))
