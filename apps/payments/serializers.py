"""Webhook input (never writes) and its documented answer."""

from rest_framework import serializers

from apps.orders.models import Order
from apps.payments.models import PaymentEvent

RESULTS = ["applied", "duplicate", "ignored", "voided"]


class WebhookInput(serializers.Serializer):
    # Printable ASCII without spaces: what providers use for ids, and nothing that could not be
    # stored (a NUL byte).
    event_id = serializers.RegexField(r"^[!-~]{1,100}$", max_length=100)
    order_number = serializers.RegexField(r"^[0-9A-Za-z]{1,20}$", max_length=20)
    outcome = serializers.ChoiceField(choices=PaymentEvent.Outcome.values)


class WebhookResultSchema(serializers.Serializer):
    event_id = serializers.CharField()
    order_number = serializers.CharField()
    status = serializers.ChoiceField(
        choices=Order.Status.values, help_text="The order's status after the event."
    )
    result = serializers.ChoiceField(
        choices=RESULTS,
        help_text="applied: the order moved. duplicate: this event_id was seen before; nothing "
        "changed. ignored: the order was settled already; nothing changed. voided: a success "
        "for an order that no longer waits (expired, failed, cancelled): the payment is voided.",
    )
