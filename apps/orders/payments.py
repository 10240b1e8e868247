"""The payment boundary: a provider interface, an instant default, a provider that answers later
(its outcome comes by webhook, ``apps/payments``), and a test double that declines.

The checkout asks the provider for the quoted total with no transaction open, before the one that
writes the order and takes the stock: a slow provider slows one buyer down, never holds a stock
row's lock or a database connection, and a payment whose order could not be written is voided.
"""

import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# PAYMENT_PROVIDER may name one of these instead of a dotted path.
PROVIDERS = {
    "instant": "apps.orders.payments.InstantProvider",
    "deferred": "apps.orders.payments.DeferredProvider",
}


@dataclass(frozen=True, slots=True)
class PaymentResult:
    ok: bool
    reference: str = ""
    message: str = ""
    # Accepted, outcome later: the order waits as pending_payment, its units held, until the
    # provider's webhook settles it or the reservation expires.
    pending: bool = False


class PaymentProvider(Protocol):
    def authorize(self, *, order_number: str, amount: Decimal, currency: str) -> PaymentResult:
        """Reserve ``amount`` for the order; never raise for a decline (return ok=False)."""

    def void(self, *, reference: str) -> None:
        """Release an authorization no order will use (the stock or the key went meanwhile)."""


class InstantProvider:
    """Authorize every payment at once (the default, for demos and load tests)."""

    def authorize(self, *, order_number: str, amount: Decimal, currency: str) -> PaymentResult:
        return PaymentResult(ok=True, reference=f"instant-{order_number}")

    def void(self, *, reference: str) -> None:
        return None


class DeferredProvider:
    """Accept every payment and answer later, by a signed webhook (demos, tests and load runs).

    Stands in for a provider with redirects or 3-D Secure: nothing is decided at checkout. Its
    outcome arrives as ``POST /api/v1/payments/webhook/``, sent by whoever plays the provider.
    """

    answers_later = True  # its outcomes come by webhook: PAYMENT_WEBHOOK_SECRET is required

    def authorize(self, *, order_number: str, amount: Decimal, currency: str) -> PaymentResult:
        return PaymentResult(ok=True, pending=True, reference=f"deferred-{order_number}")

    def void(self, *, reference: str) -> None:
        logger.info("payment voided: %s", reference)


class TestProvider:
    """Authorize unless told to decline; record every call and whether a transaction was open."""

    _lock = threading.Lock()
    declines_pending = 0
    calls: list[dict] = []

    @classmethod
    def decline_next(cls, count: int = 1) -> None:
        with cls._lock:
            cls.declines_pending = count

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.declines_pending = 0
            cls.calls = []

    def authorize(self, *, order_number: str, amount: Decimal, currency: str) -> PaymentResult:
        with self._lock:
            decline = self.declines_pending > 0
            if decline:
                type(self).declines_pending -= 1
            self.calls.append(
                {
                    "order": order_number,
                    "amount": amount,
                    "in_transaction": connection.in_atomic_block,
                }
            )
        if decline:
            return PaymentResult(ok=False, message="Card declined (test provider).")
        return PaymentResult(ok=True, reference=f"test-{order_number}")

    def void(self, *, reference: str) -> None:
        with self._lock:
            self.calls.append({"void": reference})


@cache
def _provider(path: str) -> PaymentProvider:
    return import_string(path)()


def provider_path() -> str:
    """Return the dotted path ``settings.PAYMENT_PROVIDER`` names (a short name or a path)."""
    return PROVIDERS.get(settings.PAYMENT_PROVIDER, settings.PAYMENT_PROVIDER)


def payment_provider() -> PaymentProvider:
    """Return the provider named by ``settings.PAYMENT_PROVIDER`` (one instance per path)."""
    return _provider(provider_path())
