"""The perf gate's deferred flash sale: payments that answer later, with a real Celery worker.

A server of its own (``PAYMENT_PROVIDER=deferred``, short reservations) and ``celery -A config
worker -B`` beside it; Locust's ``deferred_sale`` buys ``stock`` units of one SKU with 40 buyers
who confirm four payments in five by signed webhook after random delays. After the last
reservation has run out and the worker has expired it: units paid + units held + units on the
shelf = the units put on sale, no unit sold twice, no order both paid and returned, and every
reservation expired within 60 s of its ``expires_at``.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from perf.gate_checks import Gate

SKU = "FLASH-SALE-DEFERRED"
EXPIRY_LAG_MAX = 60.0  # seconds: the contract's "expired within 60 seconds"


def environment(env: dict[str, str], limits: dict) -> dict[str, str]:
    """The server's and the worker's settings for the deferred sale."""
    return {
        **env,
        "PAYMENT_PROVIDER": "deferred",
        "PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "PAYMENT_RESERVATION_SECONDS": str(limits["reservation_seconds"]),
        "PAYMENT_EXPIRY_INTERVAL_SECONDS": str(limits["expiry_interval_seconds"]),
        # The worker confirms every paid order of the run by email: measured, not delivered.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def sale_open(units: int) -> dict[int, int]:
    """Put ``units`` of the deferred SKU on sale (one stock row); return {row: units}."""
    from apps.catalog.cache import catalog_invalidate
    from apps.inventory.models import Stock
    from perf import checkout_data

    checkout_data.catalog_ensure([], SKU)
    rows = Stock.objects.filter(variant__sku=SKU)
    rows.update(quantity=units)
    catalog_invalidate(listing=True)
    return dict.fromkeys(rows.values_list("pk", flat=True), units)


def pending_left() -> int:
    from apps.orders.models import Order

    return Order.objects.filter(status="pending_payment", lines__sku=SKU).distinct().count()


def settled_wait(limits: dict) -> float:
    """Wait until no order of the sale is pending any more; return how long that took."""
    started = time.monotonic()
    deadline = started + limits["reservation_seconds"] + EXPIRY_LAG_MAX + 30
    while pending_left() and time.monotonic() < deadline:
        time.sleep(1)
    return time.monotonic() - started


def invariants(units: int, seen: dict) -> list[Gate]:
    """Hold the database after the sale and its expiry against what was put on sale and seen."""
    from django.db.models import F, Max, Sum

    from apps.inventory.models import Stock, StockMovement
    from apps.orders.models import Order, OrderLine

    def gate(name: str, value, expected: str, passed: bool) -> Gate:
        return Gate("deferred_sale", name, value, expected, passed)

    lines = OrderLine.objects.filter(sku=SKU)
    by_status = dict(
        lines.values_list("order__status")
        .annotate(units=Sum("quantity"))
        .values_list("order__status", "units")
    )
    paid, held = by_status.get("paid", 0), by_status.get("pending_payment", 0)
    returned_statuses = ("expired", "payment_failed", "cancelled")
    returned_orders = sum(by_status.get(status, 0) for status in returned_statuses)
    shelf = sum(Stock.objects.filter(variant__sku=SKU).values_list("quantity", flat=True))
    order_ids = lines.values("order_id")
    moves = StockMovement.objects.filter(order_id__in=order_ids)
    sold = -(moves.filter(reason="sale").aggregate(u=Sum("delta"))["u"] or 0)
    back = moves.exclude(reason="sale").aggregate(u=Sum("delta"))["u"] or 0
    paid_ids = Order.objects.filter(pk__in=order_ids, status="paid").values("pk")
    paid_and_returned = (
        moves.filter(order_id__in=paid_ids).exclude(reason="sale").values("order_id").distinct()
    ).count()
    expired = Order.objects.filter(pk__in=order_ids, status="expired")
    lag = expired.aggregate(lag=Max(F("updated_at") - F("expires_at")))["lag"]
    lag_seconds = lag.total_seconds() if lag else 0.0
    return [
        gate(
            "units paid + held + on the shelf",
            paid + held + shelf,
            f"== units put on sale {units} (paid {paid}, held {held}, shelf {shelf})",
            paid + held + shelf == units,
        ),
        gate(
            "units taken - units returned",
            sold - back,
            f"== units paid + held {paid + held} (taken {sold}, returned {back})",
            sold - back == paid + held,
        ),
        gate(
            "units returned",
            back,
            f"== units of expired and failed orders {returned_orders}",
            back == returned_orders,
        ),
        gate("paid orders with units returned", paid_and_returned, "== 0", paid_and_returned == 0),
        gate("orders still pending after the expiry", held, "== 0", held == 0),
        gate(
            "orders in the database",
            lines.values("order_id").distinct().count(),
            f"== orders answered 202 {seen['orders']}",
            lines.values("order_id").distinct().count() == seen["orders"],
        ),
        gate(
            "reservations expired (one in five never confirmed)",
            expired.count(),
            f">= unconfirmed {seen['unconfirmed']}",
            expired.count() >= seen["unconfirmed"] > 0,
        ),
        gate(
            "expiry lag, max (updated_at - expires_at)",
            round(lag_seconds, 1),
            f"<= {EXPIRY_LAG_MAX:.0f} s",
            lag_seconds <= EXPIRY_LAG_MAX,
        ),
    ]


def result_read(path: Path) -> dict:
    import json

    return json.loads(path.read_text())
