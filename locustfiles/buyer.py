"""Signed-in buyers: register once, fill the cart, check out with idempotency keys, see orders.

    locust -f locustfiles/buyer.py --host http://127.0.0.1:8000

A checkout answered 409 ``insufficient_stock`` is the contract's answer for a sold-out SKU and
counts as a success. Checkout throttles (30/min per user by default) must be raised for a load
run (``THROTTLE_CHECKOUT``), or a fast buyer's 429s count as failures.
"""

from __future__ import annotations

from locust import FastHttpUser, between, task

from locustfiles.common import (
    API,
    catalog_sample,
    expect,
    idempotency_key,
    register,
    think_time,
    user_rng,
)


class BuyerUser(FastHttpUser):
    wait_time = between(0, think_time())

    def on_start(self) -> None:
        self.sample = catalog_sample(self.host)
        self.rng = user_rng("buyer")
        self.skus = self.sample.skus_of_one_currency(self.rng)
        self.in_cart = 0
        self.last_checkout: tuple[str, bytes] | None = None  # key and the 201 body
        self.orders: list[str] = []
        self.headers = {"Authorization": f"Token {register(self.client, 'lb')}"}

    @task(4)
    def cart_add(self) -> None:
        line = {"sku": self.rng.choice(self.skus), "quantity": self.rng.randint(1, 2)}
        with self.client.post(
            f"{API}/cart/lines/",
            json=line,
            headers=self.headers,
            name="cart:add",
            catch_response=True,
        ) as response:
            if expect(response, 201):
                self.in_cart += 1

    @task(2)
    def cart(self) -> None:
        with self.client.get(
            f"{API}/cart/", headers=self.headers, name="cart", catch_response=True
        ) as response:
            expect(response, 200)

    @task(2)
    def checkout(self) -> None:
        if not self.in_cart:
            return
        key = idempotency_key()
        with self._checkout_post(key, "checkout") as response:
            answered = expect(response, 201, 409, code="insufficient_stock")
            if answered and response.status_code == 201:
                self.in_cart = 0
                self.last_checkout = (key, response.content)
                self.orders.append(response.json()["number"])
        if response.status_code == 409:
            self._cart_empty()  # a sold-out line would fail every later checkout too

    def _checkout_post(self, key: str, name: str):
        """Check the cart out under ``key`` (an empty body buys the cart)."""
        return self.client.post(
            f"{API}/checkout/",
            data=b"",
            headers={**self.headers, "Idempotency-Key": key},
            name=name,
            catch_response=True,
        )

    def _cart_empty(self) -> None:
        with self.client.get(
            f"{API}/cart/", headers=self.headers, name="cart", catch_response=True
        ) as response:
            lines = response.json()["lines"] if expect(response, 200) else []
        for line in lines:
            with self.client.delete(
                f"{API}/cart/lines/{line['id']}/",
                headers=self.headers,
                name="cart:remove",
                catch_response=True,
            ) as response:
                expect(response, 204)
        self.in_cart = 0

    @task(1)
    def checkout_replay(self) -> None:
        """The same key again (a retried request): the same body, and no second order."""
        if not self.last_checkout:
            return
        key, first = self.last_checkout
        with self._checkout_post(key, "checkout:replay") as response:
            if expect(response, 201) and response.content != first:
                response.failure("a replay answered a different body")

    @task(2)
    def orders_list(self) -> None:
        with self.client.get(
            f"{API}/orders/", headers=self.headers, name="orders", catch_response=True
        ) as response:
            expect(response, 200)

    @task(1)
    def cancel(self) -> None:
        """Cancel the newest order; a second cancellation of it is a 409 by contract."""
        if not self.orders:
            return
        number = self.orders[-1]
        with self.client.post(
            f"{API}/orders/{number}/cancel/",
            headers=self.headers,
            name="orders:cancel",
            catch_response=True,
        ) as response:
            if expect(response, 200, 409) and response.status_code == 200:
                self.orders.pop()
                self.last_checkout = None  # its replay would now show the cancelled order
