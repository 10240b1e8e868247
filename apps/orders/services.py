"""Checkout and order writes.

A checkout is two server-side statements (``apps/orders/sql/checkout.sql``) and one commit:
``orders_checkout_quote`` reads what the order would be (lines, prices, total), writing and
locking nothing, and turns away a sold-out line or a key already taken (whose first answer is
replayed). The payment provider is asked for that total with no transaction open. Then
``orders_checkout_place`` claims the Idempotency-Key with the response to replay, writes the
order with the payment's answer and last locks (pk order), re-checks and takes the stock, so
the hot rows stay locked for one step and the commit. When that statement finds the stock gone
or the key claimed meanwhile, the payment is voided.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import orjson
from django.conf import settings
from django.db import transaction

from apps.catalog.cache import catalog_invalidate
from apps.core.background import task_wake_on_commit
from apps.core.db_functions import Refusal, db_call
from apps.inventory.errors import InsufficientStock
from apps.inventory.models import StockMovement
from apps.inventory.services import stock_release_orders
from apps.orders import idempotency, metrics
from apps.orders.errors import CurrencyMismatch, EmptyCheckout, OrderNotFound, UnknownSku
from apps.orders.idempotency import StoredResponse
from apps.orders.models import Order, order_number_new
from apps.orders.payments import PaymentResult, payment_provider
from apps.orders.selectors import LINE_COLUMNS, line_payload, order_as_row, order_payload

logger = logging.getLogger(__name__)

PAYMENTS_VOID_TASK = "apps.orders.tasks.payments_void"
ORDER_CONFIRMATIONS_TASK = "apps.orders.tasks.order_confirmations_send"
# Both tasks sweep an outbox flag (void_due, email_due): a commit that sets one wakes its task to
# run within this long (one send per process per window; the schedule covers a lost one).
OUTBOX_WAKE_SECONDS = 1.0

QUOTE_SQL = "SELECT orders_checkout_quote(%s, %s, %s::text[], %s::integer[], %s)"
PLACE_SQL = (
    "SELECT orders_checkout_place(%s, %s, %s, %s, %s::bigint[], %s::text[], %s::integer[], "
    "%s::numeric[], %s, %s, %s, %s, %s, %s)"
)


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int


def order_place(user, *, key: str, lines: Sequence[LineRequest] | None) -> StoredResponse:
    """Buy ``lines`` (or, when None, the user's cart) once per Idempotency-Key."""
    fingerprint = idempotency.request_fingerprint(
        None if lines is None else sorted([line.sku, line.quantity] for line in lines)
    )
    skus = None if lines is None else [line.sku for line in lines]
    quantities = None if lines is None else [line.quantity for line in lines]
    try:
        quote = db_call(QUOTE_SQL, [user.pk, key, skus, quantities, lines is None])
    except Refusal as refusal:
        raise _checkout_error(refusal) from None
    if quote.get("taken"):
        return _replay(user.pk, key, fingerprint)
    number = order_number_new()
    payment = _authorize(number, Decimal(quote["total"]), quote["currency"])
    params = [user.pk, key, fingerprint, number, quote["variant_ids"], quote["skus"]]
    params += [quote["quantities"], quote["prices"], quote["currency"], lines is None]
    params += [_status_of(payment), payment.reference, payment.message]
    params += [settings.PAYMENT_RESERVATION_SECONDS]
    try:
        placed = db_call(PLACE_SQL, params)
    except Refusal as refusal:  # the stock went while the provider answered
        _void(payment)
        raise _checkout_error(refusal) from None
    if placed.get("taken"):  # the same key, sent twice at once: the other one bought
        _void(payment)
        return _replay(user.pk, key, fingerprint)
    if payment.ok:
        transaction.on_commit(
            partial(_after_placed, number, placed, quote["product_slugs"], payment.pending)
        )
    else:
        metrics.PAYMENTS_FAILED.inc()
    return StoredResponse(placed["status_code"], orjson.loads(placed["body"]))


def _replay(user_id: int, key: str, fingerprint: str) -> StoredResponse:
    """Return the answer stored under a key another request holds or held (waited for)."""
    replay = idempotency.idempotency_replay(user_id, key, fingerprint)
    if replay is None:
        raise RuntimeError("idempotency key taken but no longer stored")
    metrics.CHECKOUT_REPLAYS.inc()
    return replay


def _checkout_error(refusal: Refusal) -> Exception:
    if refusal.code == "insufficient_stock":
        metrics.CHECKOUT_CONFLICTS.inc()
        return InsufficientStock(refusal.data)
    if refusal.code == "unknown_sku":
        return UnknownSku(skus=refusal.data)
    if refusal.code == "currency_mismatch":
        return CurrencyMismatch(currencies=refusal.data)
    if refusal.code == "empty_cart":
        return EmptyCheckout()
    return refusal


def _status_of(payment: PaymentResult) -> str:
    if not payment.ok:
        return Order.Status.PAYMENT_FAILED
    return Order.Status.PENDING_PAYMENT if payment.pending else Order.Status.PAID


def _after_placed(number: str, placed: dict, product_slugs: list[str], pending: bool) -> None:
    metrics.ORDERS_PLACED.inc()
    if pending:
        metrics.RESERVATIONS_PLACED.inc()
    logger.info("order placed: %s", number)
    # A sale changes its products' availability, and the listing only when a row crossed zero.
    catalog_invalidate(listing=placed["crossed_zero"], product_slugs=product_slugs)


def _authorize(number: str, amount: Decimal, currency: str) -> PaymentResult:
    try:
        return payment_provider().authorize(order_number=number, amount=amount, currency=currency)
    except Exception:  # a provider outage is a declined payment, not a 500
        logger.exception("payment provider failed for order %s", number)
        return PaymentResult(ok=False, message="The payment provider is unavailable.")


def payments_void(references: Sequence[str]) -> None:
    """Void authorizations no order will use; raise if the provider fails (the task retries)."""
    provider = payment_provider()
    for reference in references:
        if reference:
            provider.void(reference=reference)


def payments_void_due(*, batch: int = 500) -> int:
    """Void the authorization of every order marked ``void_due``, then clear its flag; return how
    many orders were cleared. Raises on a provider failure, having cleared the ones voided.

    At least once: a void is idempotent at the provider, so a crash between the void and the
    clearing voids it again on the next run, and two runs at once may both void a reference.
    """
    cleared = 0
    while True:
        due = list(
            Order.objects.filter(void_due=True)
            .order_by("id")
            .values_list("id", "payment_reference")[:batch]
        )
        voided = []
        try:
            for order_id, reference in due:
                payments_void([reference])
                voided.append(order_id)
        finally:
            if voided:
                Order.objects.filter(pk__in=voided).update(void_due=False)
        cleared += len(voided)
        if len(due) < batch:
            return cleared


def payments_void_wake() -> None:
    """Have the void task run soon after the commit that marked orders ``void_due``."""
    task_wake_on_commit(PAYMENTS_VOID_TASK, within=OUTBOX_WAKE_SECONDS)


def order_confirmations_wake() -> None:
    """Have the email task run soon after the commit that marked orders ``email_due``."""
    task_wake_on_commit(ORDER_CONFIRMATIONS_TASK, within=OUTBOX_WAKE_SECONDS)


def _void(payment: PaymentResult) -> None:
    """Let an authorization go that no order will use; the buyer's answer does not depend on it."""
    if not payment.ok:
        return
    try:
        payment_provider().void(reference=payment.reference)
    except Exception:
        logger.exception("payment provider could not void %s", payment.reference)


def order_stock_return(orders: Sequence[tuple[int, str]], reason: str) -> None:
    """Give the units of ``orders`` ((id, number) pairs) back, once: the caller holds their row
    locks and moves them to a status in ``Order.STOCK_RETURNED``. The catalog refreshes on commit.
    """
    returned = stock_release_orders([order_id for order_id, _number in orders], reason=reason)
    numbers = [number for _id, number in orders]
    order_stock_returned(numbers, reason, returned.crossed_zero, returned.product_slugs)


def order_stock_returned(
    numbers: list[str], reason: str, crossed_zero: bool, product_slugs: list[str]
) -> None:
    """Log the return and refresh the catalog once the transaction that returned units commits."""
    transaction.on_commit(
        partial(_after_stock_returned, numbers, reason, crossed_zero, product_slugs)
    )


def _after_stock_returned(
    numbers: list[str], reason: str, crossed_zero: bool, product_slugs: list[str]
) -> None:
    shown = " ".join(numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
    logger.info("stock returned (%s): %s", reason, shown)
    catalog_invalidate(listing=crossed_zero, product_slugs=product_slugs)


@transaction.atomic
def order_cancel(user, *, number: str) -> dict:
    """Cancel one of the user's orders and return its stock, exactly once (409 the second time)."""
    order = Order.objects.select_for_update().filter(user=user, number=number).first()
    if order is None:
        raise OrderNotFound()
    was_pending = order.status == Order.Status.PENDING_PAYMENT
    order.transition_to(Order.Status.CANCELLED)
    order.void_due = was_pending  # its payment may still come: the provider is told to drop it
    lines = [line_payload(*row[1:]) for row in order.lines.values_list(*LINE_COLUMNS)]
    order.save(update_fields=["status", "void_due", "updated_at"])
    order_stock_return([(order.pk, order.number)], StockMovement.Reason.CANCEL)
    if was_pending:
        payments_void_wake()
    transaction.on_commit(metrics.ORDERS_CANCELLED.inc)
    return order_payload(order_as_row(order), lines)


@transaction.atomic
def order_fulfil(number: str) -> Order:
    """Mark a paid order as shipped (staff action)."""
    order = Order.objects.select_for_update().filter(number=number).first()
    if order is None:
        raise OrderNotFound()
    order.transition_to(Order.Status.FULFILLED)
    order.save(update_fields=["status", "updated_at"])
    return order
