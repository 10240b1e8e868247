"""A flash sale whose payments answer later: reservations, signed webhooks, some never confirmed.

    DEFERRED_SKU=... PAYMENT_WEBHOOK_SECRET=... [FLASH_TOKENS_FILE=tokens.txt] \
        [DEFERRED_RESULT_FILE=deferred.json] [DEFERRED_DELAY_MAX=6] \
        locust -f locustfiles/deferred_sale.py --host http://127.0.0.1:8000

The server runs ``PAYMENT_PROVIDER=deferred``. Each buyer checks out 1-2 units (202
``pending_payment``, or 409 sold out), then plays the payment provider for that order: four in
five get a signed ``succeeded`` webhook after a random delay up to ``DEFERRED_DELAY_MAX`` seconds
(some after their reservation ran out), one in five never hears back and must expire. At the
end, ``DEFERRED_RESULT_FILE`` gets what buyers and webhooks saw, for the gate to hold against the
database after the expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections import Counter
from pathlib import Path

import gevent
from locust import FastHttpUser, between, events, task

from locustfiles.common import API, buyer_token, expect, idempotency_key, think_time, user_rng

SKU = os.environ.get("DEFERRED_SKU", "FLASH-2")
SECRET = os.environ.get("PAYMENT_WEBHOOK_SECRET", "").encode()
DELAY_MAX = float(os.environ.get("DEFERRED_DELAY_MAX", "6"))
NEVER_CONFIRMED = 0.2
# What buyers and webhooks saw. One process: plain module state.
orders: dict[str, int] = {}  # order number -> units, from the 202 bodies
webhooks: Counter[str] = Counter()  # result of each webhook (applied, voided, ...)
unconfirmed: list[str] = []
statuses: Counter[int] = Counter()


class DeferredSaleUser(FastHttpUser):
    wait_time = between(0, think_time())

    def on_start(self) -> None:
        self.rng = user_rng("deferred")
        token = buyer_token(self.client, "ds")
        self.headers = {"Authorization": f"Token {token}"}

    @task
    def buy(self) -> None:
        body = json.dumps({"lines": [{"sku": SKU, "quantity": self.rng.randint(1, 2)}]})
        with self.client.post(
            f"{API}/checkout/",
            data=body.encode(),
            headers={
                **self.headers,
                "Idempotency-Key": idempotency_key(),
                "Content-Type": "application/json",
            },
            name="checkout:deferred",
            catch_response=True,
        ) as response:
            statuses[response.status_code] += 1
            if not expect(response, 202, 409, code="insufficient_stock"):
                return
            if response.status_code != 202:
                return
            order = response.json()
            if order.get("status") != "pending_payment" or not order.get("expires_at"):
                response.failure(f"202 without a pending order: {response.text[:200]}")
                return
        orders[order["number"]] = sum(line["quantity"] for line in order["lines"])
        if self.rng.random() < NEVER_CONFIRMED:
            unconfirmed.append(order["number"])
            return
        gevent.spawn_later(self.rng.uniform(0, DELAY_MAX), self._confirm, order["number"])

    def _confirm(self, number: str) -> None:
        body = json.dumps(
            {"event_id": f"evt-{uuid.uuid4().hex}", "order_number": number, "outcome": "succeeded"}
        ).encode()
        signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        with self.client.post(
            f"{API}/payments/webhook/",
            data=body,
            headers={"Content-Type": "application/json", "X-Shopfast-Signature": signature},
            name="payments:webhook",
            catch_response=True,
        ) as response:
            if expect(response, 200):
                webhooks[response.json()["result"]] += 1


@events.test_stop.add_listener
def _write_result(environment, **kwargs) -> None:
    path = os.environ.get("DEFERRED_RESULT_FILE")
    if path:
        result = {
            "sku": SKU,
            "orders": len(orders),
            "units": sum(orders.values()),
            "unconfirmed": len(unconfirmed),
            "webhooks": dict(webhooks),
            "statuses": {str(code): count for code, count in sorted(statuses.items())},
        }
        Path(path).write_text(json.dumps(result, indent=2) + "\n")
