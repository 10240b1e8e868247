"""A payment provider that hangs while a file exists: a process can be killed mid-payment."""

import os
import time
from decimal import Decimal
from pathlib import Path

from apps.orders.payments import InstantProvider, PaymentResult


class SlowProvider(InstantProvider):
    """Authorize like the instant provider, after waiting while ``$SLOW_PROVIDER_GATE`` exists."""

    def authorize(self, *, order_number: str, amount: Decimal, currency: str) -> PaymentResult:
        gate = Path(os.environ["SLOW_PROVIDER_GATE"])
        deadline = time.monotonic() + 60
        while gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().authorize(order_number=order_number, amount=amount, currency=currency)
