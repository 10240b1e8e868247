"""Orders with a small status machine, their frozen lines, and stored checkout responses."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.orders.errors import InvalidTransition

# Crockford's base32 without I, L, O, U: read aloud over the phone without confusion.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number_new() -> str:
    """Return a fresh random order number (60 bits: collisions are not a practical concern)."""
    bits = secrets.randbits(60)  # one read of the OS's randomness, not one per character
    return "".join(_NUMBER_ALPHABET[(bits >> shift) & 31] for shift in range(55, -1, -5))


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed"
        PENDING_PAYMENT = "pending_payment"
        PAID = "paid"
        FULFILLED = "fulfilled"
        CANCELLED = "cancelled"
        PAYMENT_FAILED = "payment_failed"
        EXPIRED = "expired"

    # from-status -> the statuses it may move to. Everything else is refused: a settled order
    # (paid, failed, expired, cancelled) never goes back to waiting for its payment.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PLACED: frozenset({Status.PAID, Status.CANCELLED, Status.PAYMENT_FAILED}),
        Status.PENDING_PAYMENT: frozenset(
            {Status.PAID, Status.PAYMENT_FAILED, Status.EXPIRED, Status.CANCELLED}
        ),
        Status.PAID: frozenset({Status.FULFILLED, Status.CANCELLED}),
    }
    # Statuses whose stock is back on the shelf (or was never taken: a declined instant payment).
    STOCK_RETURNED = frozenset({Status.CANCELLED, Status.PAYMENT_FAILED, Status.EXPIRED})

    number = models.CharField(max_length=20, unique=True, default=order_number_new)
    # No index of its own: order_user_created_idx leads with user_id (one index less to write).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    payment_reference = models.CharField(max_length=100, blank=True, default="")
    # A pending payment holds its units until then; the expiry task gives them back after.
    expires_at = models.DateTimeField(null=True, blank=True)
    # Paid and its confirmation email not sent yet: the outbox the email task drains.
    email_due = models.BooleanField(default=False, db_default=False)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # Its payment authorization is to be voided (the order will never use it): the outbox the
    # void task drains, so a void survives a broker outage or a crash after the commit.
    void_due = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The owner's list, newest first, keyset-paginated on (created_at, id).
            models.Index(fields=["user", "-created_at", "-id"], name="order_user_created_idx"),
            # The expiry task's scan: only the orders still waiting for their payment.
            models.Index(
                fields=["expires_at"],
                name="order_pending_expiry_idx",
                condition=Q(status="pending_payment"),
            ),
            # The email task's scan: only the paid orders not yet confirmed.
            models.Index(fields=["id"], name="order_email_due_idx", condition=Q(email_due=True)),
            # The void task's scan: only the orders whose authorization is still to be voided.
            models.Index(fields=["id"], name="order_void_due_idx", condition=Q(void_due=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    def transition_to(self, status: str) -> None:
        """Move to ``status`` or raise ``InvalidTransition``; the caller holds the row lock."""
        if not self.can_become(status):
            raise InvalidTransition(
                f"An order that is {self.status} cannot become {status}.",
                status=self.status,
            )
        self.status = status


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # Kept for reporting; the sku, name and price are frozen copies, so a later catalog change
    # or deletion never rewrites a placed order.
    variant = models.ForeignKey(
        "catalog.Variant", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=420)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orderline_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class IdempotencyKey(models.Model):
    """A checkout's Idempotency-Key: the request's hash and, once known, the response to replay."""

    # No index of its own: idempotency_user_key_uniq leads with user_id. With both, the planner
    # could pick this one for a (user, key) lookup and scan every key the user ever sent.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, null=True, on_delete=models.SET_NULL, related_name="+")
    response_status = models.PositiveSmallIntegerField(null=True)
    # Text, not JSONB: a replay must send back the same bytes, and JSONB reorders keys.
    response_body = models.TextField(null=True)  # noqa: DJ001  NULL: no response yet
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_uniq"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
