"""A stocked shop whose payments answer later, and a signed webhook sender."""

import itertools

import orjson
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.orders.tests.shops import Shop, api_for, shop_build

_keys = itertools.count()


@pytest.fixture
def deferred(settings):
    settings.PAYMENT_PROVIDER = "deferred"
    settings.PAYMENT_RESERVATION_SECONDS = 900
    return settings


@pytest.fixture
def shop(db) -> Shop:
    return shop_build()


def checkout(user, lines: list[tuple[str, int]], key: str | None = None):
    """Buy ``lines`` as ``user``; return the response."""
    return api_for(user).post(
        "/api/v1/checkout/",
        {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or f"key-{next(_keys)}",
    )


def signed(payload, secret: str | None = None) -> tuple[bytes, str]:
    from apps.payments.signatures import signature_of

    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return body, signature_of(body, secret or settings.PAYMENT_WEBHOOK_SECRET)


def webhook(payload, *, signature: str | None = "sign"):
    """POST ``payload`` (a dict, or raw bytes) to the webhook, signed unless told otherwise."""
    body, good = signed(payload)
    headers = {} if signature is None else {"HTTP_X_SHOPFAST_SIGNATURE": good}
    if signature not in (None, "sign"):
        headers["HTTP_X_SHOPFAST_SIGNATURE"] = signature
    return APIClient().generic(
        "POST", "/api/v1/payments/webhook/", body, content_type="application/json", **headers
    )


def event(order_number: str, outcome: str = "succeeded", event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or f"evt-{next(_keys)}",
        "order_number": order_number,
        "outcome": outcome,
    }
