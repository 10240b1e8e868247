"""A flash sale: many buyers on one hot SKU with limited stock, until long after it sells out.

    FLASH_SKU=... [FLASH_TOKENS_FILE=tokens.txt] [FLASH_RESULT_FILE=flash.json] \
        locust -f locustfiles/flash_sale.py --host http://127.0.0.1:8000

Buyers sign in with the API tokens in ``FLASH_TOKENS_FILE`` (one per line, one per user; the
perf gate creates them, as a shop would have its customers before the sale) or register when
there is none. Each checkout buys 1-2 units with a fresh Idempotency-Key; one in ten is sent twice
(a client retry), which must answer the same body. 201 and 409 ``insufficient_stock`` are both
successes. At the end, ``FLASH_RESULT_FILE`` gets what the buyers saw (orders, units, statuses)
for the gate to hold against the database.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from locust import FastHttpUser, between, events, task

from locustfiles.common import API, buyer_token, expect, idempotency_key, think_time, user_rng

SKU = os.environ.get("FLASH_SKU", "FLASH-1")
# What the buyers saw: order number -> units; status counts. One process: plain module state.
orders: dict[str, int] = {}
statuses: Counter[int] = Counter()


class FlashSaleUser(FastHttpUser):
    wait_time = between(0, think_time())

    def on_start(self) -> None:
        self.rng = user_rng("flash")
        token = buyer_token(self.client, "fs")
        self.headers = {"Authorization": f"Token {token}"}

    def _checkout(self, key: str, body: bytes, name: str):
        with self.client.post(
            f"{API}/checkout/",
            data=body,
            headers={**self.headers, "Idempotency-Key": key, "Content-Type": "application/json"},
            name=name,
            catch_response=True,
        ) as response:
            statuses[response.status_code] += 1
            expect(response, 201, 409, code="insufficient_stock")
            if response.status_code == 201:
                order = response.json()
                orders[order["number"]] = sum(line["quantity"] for line in order["lines"])
            return response

    @task
    def buy(self) -> None:
        body = json.dumps({"lines": [{"sku": SKU, "quantity": self.rng.randint(1, 2)}]}).encode()
        key = idempotency_key()
        first = self._checkout(key, body, "checkout")
        if self.rng.random() < 0.1:
            again = self._checkout(key, body, "checkout:replay")
            if first.status_code == 201 and again.content != first.content:
                again.failure("a replay answered a different body")


@events.test_stop.add_listener
def _write_result(environment, **kwargs) -> None:
    path = os.environ.get("FLASH_RESULT_FILE")
    if path:
        result = {
            "sku": SKU,
            "orders": len(orders),
            "units": sum(orders.values()),
            "statuses": {str(code): count for code, count in sorted(statuses.items())},
        }
        Path(path).write_text(json.dumps(result, indent=2) + "\n")
