"""What payment providers told us: one row per webhook event, the record of its effect."""

from django.db import models


class PaymentEvent(models.Model):
    """A provider's event, stored once: its ``event_id`` makes a redelivery a no-op."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Result(models.TextChoices):
        APPLIED = "applied"  # the order moved: paid, or payment_failed with its units back
        IGNORED = "ignored"  # the order was settled already; nothing changed
        VOIDED = "voided"  # money for an order that no longer waits for it: voided

    event_id = models.CharField(max_length=100, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    result = models.CharField(max_length=10, choices=Result.choices)
    # The order's status after the event (what the webhook answered).
    status = models.CharField(max_length=20)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_id}: {self.outcome} -> {self.result}"
