"""Settle pending payments: by the provider's webhook, or by expiry when no outcome came.

A pending order (``pending_payment``) holds its units from the checkout on. Exactly one of these
ends the wait, each under the order's row lock and so at most once: a ``succeeded`` event before
``expires_at`` (paid), a ``failed`` event (payment_failed, units returned), the expiry task
(expired, units returned) or the buyer's cancel. What comes after finds a settled order, which
never changes again: a late ``succeeded`` has its payment voided instead, and is recorded.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.db_functions import Refusal, db_call
from apps.inventory.models import StockMovement
from apps.orders.errors import OrderNotFound
from apps.orders.models import Order
from apps.orders.services import (
    order_confirmations_wake,
    order_stock_return,
    order_stock_returned,
    payments_void_wake,
)
from apps.payments import metrics
from apps.payments.models import PaymentEvent

Status = Order.Status
Result = PaymentEvent.Result
DUPLICATE = "duplicate"
# apps/payments/sql/settle.sql: the webhook's whole transaction in one statement.
SETTLE_SQL = "SELECT payments_settle(%s, %s, %s)"
RETURN_REASONS = {
    Status.EXPIRED: StockMovement.Reason.EXPIRED,
    Status.PAYMENT_FAILED: StockMovement.Reason.PAYMENT_FAILED,
}


@dataclass(frozen=True, slots=True)
class Settlement:
    event_id: str
    order_number: str
    status: str  # the order's status after the event
    result: str  # applied, duplicate, ignored or voided


def payment_settle(*, event_id: str, order_number: str, outcome: str) -> Settlement:
    """Apply a provider's outcome to its order once per ``event_id``.

    Raises ``OrderNotFound`` for an unknown order (nothing recorded).
    """
    try:
        done = db_call(SETTLE_SQL, [event_id, order_number, outcome])
    except Refusal:  # not_found: the function's only refusal
        raise OrderNotFound() from None
    except IntegrityError:  # the same event_id, applied to another order at the same moment
        status = Order.objects.filter(number=order_number).values_list("status", flat=True)
        done = {"result": DUPLICATE, "status": status.first() or ""}
    if done["result"] != DUPLICATE:
        _after_settled(order_number, done)
    metrics.WEBHOOKS.labels(done["result"]).inc()
    return Settlement(event_id, order_number, done["status"], done["result"])


def _after_settled(number: str, done: dict) -> None:
    """Queue what follows a settlement, once it is committed: void, email, catalog, metrics."""
    status, result = done["status"], done["result"]
    if result == Result.VOIDED:  # the function marked the order void_due
        payments_void_wake()
    if result == Result.APPLIED and status == Status.PAID:
        order_confirmations_wake()
    if done["returned"] is not None:
        returned = done["returned"]
        order_stock_returned(
            [number], RETURN_REASONS[status], returned["crossed_zero"], returned["product_slugs"]
        )
    lag = done["lag"]

    def count() -> None:
        if result == Result.APPLIED:
            metrics.RESERVATIONS_SETTLED.labels(status).inc()
        if lag is not None:
            metrics.RESERVATIONS_EXPIRED.inc()
            metrics.EXPIRY_LAG.observe(max(0.0, lag))

    transaction.on_commit(count)


def _expire(orders: list[Order], now: datetime) -> None:
    """Move locked pending orders to expired and return their units."""
    for order in orders:
        order.transition_to(Status.EXPIRED)
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(
        status=Status.EXPIRED, updated_at=now, void_due=True
    )
    order_stock_return([(o.pk, o.number) for o in orders], StockMovement.Reason.EXPIRED)
    lags = [(now - order.expires_at).total_seconds() for order in orders if order.expires_at]

    def count() -> None:
        metrics.RESERVATIONS_EXPIRED.inc(len(orders))
        for lag in lags:
            metrics.EXPIRY_LAG.observe(max(0.0, lag))

    transaction.on_commit(count)


def reservations_expire(*, batch: int | None = None) -> int:
    """Expire every pending order past ``expires_at``, in batches; return how many.

    Each batch is one transaction over rows locked with ``SKIP LOCKED``: an order a webhook is
    settling right now is left to it (and seen again next run if it is still pending), and two
    runs at once split the work instead of queueing behind each other.
    """
    size = batch or settings.PAYMENT_EXPIRY_BATCH
    expired = 0
    while True:
        done = _expire_batch(size)
        expired += done
        if done < size:
            break
    metrics.RESERVATIONS_HELD.set(Order.objects.filter(status=Status.PENDING_PAYMENT).count())
    return expired


@transaction.atomic
def _expire_batch(size: int) -> int:
    now = timezone.now()
    orders = list(
        Order.objects.select_for_update(skip_locked=True)
        .filter(status=Status.PENDING_PAYMENT, expires_at__lte=now)
        .order_by("expires_at")
        .only("id", "number", "status", "expires_at")[:size]
    )
    if orders:
        _expire(orders, now)
        payments_void_wake()
    return len(orders)
