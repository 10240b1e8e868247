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

from apps.core.background import task_send_on_commit
from apps.inventory.models import StockMovement
from apps.orders.errors import OrderNotFound
from apps.orders.models import Order
from apps.orders.services import (
    ORDER_CONFIRMATIONS_TASK,
    PAYMENTS_VOID_TASK,
    order_stock_return,
)
from apps.payments import metrics
from apps.payments.models import PaymentEvent

Status = Order.Status
Result = PaymentEvent.Result
DUPLICATE = "duplicate"


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
        settlement = _settle(event_id, order_number, outcome)
    except IntegrityError:  # the same event_id, sent for another order at the same moment
        settlement = None
    if settlement is None:  # seen before: report the order as it stands
        status = Order.objects.filter(number=order_number).values_list("status", flat=True)
        settlement = Settlement(event_id, order_number, status.first() or "", DUPLICATE)
    metrics.WEBHOOKS.labels(settlement.result).inc()
    return settlement


@transaction.atomic
def _settle(event_id: str, order_number: str, outcome: str) -> Settlement | None:
    order = Order.objects.select_for_update().filter(number=order_number).first()
    if order is None:
        raise OrderNotFound()
    # Under the order's lock: a redelivery of this event waits here, then finds it stored.
    if PaymentEvent.objects.filter(event_id=event_id).exists():
        return None
    result = _apply(order, outcome, timezone.now())
    PaymentEvent.objects.create(
        event_id=event_id, order=order, outcome=outcome, result=result, status=order.status
    )
    return Settlement(event_id, order.number, order.status, result)


def _apply(order: Order, outcome: str, now: datetime) -> str:
    """Move a locked order by ``outcome``; return what that did (a PaymentEvent.Result)."""
    succeeded = outcome == PaymentEvent.Outcome.SUCCEEDED
    if order.status != Status.PENDING_PAYMENT:
        if succeeded and order.status not in (Status.PAID, Status.FULFILLED):
            task_send_on_commit(PAYMENTS_VOID_TASK, [order.payment_reference])
            return Result.VOIDED  # money for an order that no longer waits for it
        return Result.IGNORED
    if succeeded and order.expires_at is not None and now >= order.expires_at:
        # Late: the task had not come round yet. The units go back as they would have.
        _expire([order], now)
        task_send_on_commit(PAYMENTS_VOID_TASK, [order.payment_reference])
        return Result.VOIDED
    if succeeded:
        order.transition_to(Status.PAID)
        order.email_due = True
        order.save(update_fields=["status", "email_due", "updated_at"])
        task_send_on_commit(ORDER_CONFIRMATIONS_TASK)
    else:
        order.transition_to(Status.PAYMENT_FAILED)
        order.save(update_fields=["status", "updated_at"])
        order_stock_return([(order.pk, order.number)], StockMovement.Reason.PAYMENT_FAILED)
    transaction.on_commit(
        lambda status=order.status: metrics.RESERVATIONS_SETTLED.labels(status).inc()
    )
    return Result.APPLIED


def _expire(orders: list[Order], now: datetime) -> None:
    """Move locked pending orders to expired and return their units."""
    for order in orders:
        order.transition_to(Status.EXPIRED)
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(
        status=Status.EXPIRED, updated_at=now
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
        .only("id", "number", "status", "expires_at", "payment_reference")[:size]
    )
    if orders:
        _expire(orders, now)
        task_send_on_commit(PAYMENTS_VOID_TASK, [order.payment_reference for order in orders])
    return len(orders)
