"""Deferred payments with a real worker process and its schedule: expiry, emails, races."""

import http.client
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from apps.inventory.models import StockMovement
from apps.orders.models import Order
from apps.orders.tests.shops import shop_build
from apps.payments.models import PaymentEvent
from apps.payments.tests.conftest import checkout, event, signed, webhook
from tests import live_server
from tests.live_server import wait_until
from tests.worker import worker_running


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), worker_running() as running:
        yield running


@pytest.fixture
def deferred_shop(transactional_db, settings):
    settings.PAYMENT_PROVIDER = "deferred"
    settings.PAYMENT_RESERVATION_SECONDS = 1
    return shop_build()


def statuses(numbers) -> dict[str, str]:
    return dict(Order.objects.filter(number__in=numbers).values_list("number", "status"))


def test_the_worker_expires_unpaid_reservations_and_returns_their_units_once(worker, deferred_shop):
    shop = deferred_shop
    numbers = [checkout(shop.users[i], [(shop.sku(i), 2)]).json()["number"] for i in range(5)]
    assert [shop.stock(i) for i in range(5)] == [8] * 5

    assert wait_until(lambda: set(statuses(numbers).values()) == {"expired"}, 30), worker.log

    assert [shop.stock(i) for i in range(5)] == [10] * 5
    time.sleep(1.5)  # several more runs of the schedule: nothing comes back twice
    returns = StockMovement.objects.filter(reason="expired")
    assert sorted(returns.values_list("delta", flat=True)) == [2] * 5
    assert [shop.stock(i) for i in range(5)] == [10] * 5


def test_a_paid_order_gets_exactly_one_email_from_the_worker(worker, deferred_shop, settings):
    settings.PAYMENT_RESERVATION_SECONDS = 60
    shop = deferred_shop
    number = checkout(shop.users[0], [(shop.sku(0), 1)]).json()["number"]
    before = len(worker.emails())

    webhook(event(number, "succeeded", "evt-mail"))
    webhook(event(number, "succeeded", "evt-mail"))  # redelivered
    webhook(event(number, "succeeded", "evt-mail-2"))  # the provider's second word on it

    assert wait_until(lambda: len(worker.emails()) > before, 30), worker.log
    time.sleep(1.5)
    mails = [text for text in worker.emails()[before:] if number in text]
    assert len(mails) == 1 and shop.users[0].email in mails[0]
    assert Order.objects.get(number=number).email_sent_at is not None


def test_a_rolled_back_payment_sends_nothing(worker, deferred_shop):
    shop = deferred_shop
    number = checkout(shop.users[0], [(shop.sku(0), 1)]).json()["number"]
    before = len(worker.emails())

    webhook(event(number, "failed"))

    time.sleep(2)
    assert not any(number in text for text in worker.emails()[before:])


def test_webhooks_racing_the_expiry_leave_each_order_paid_or_expired_never_both(
    worker, transactional_db
):
    """Forty buyers hold one hot SKU; outcomes arrive over HTTP around their expiry."""
    shop = shop_build(units_per_warehouse=30, skus=1, buyers=40)
    secret = "race-webhook-secret-0123456789"
    env = {
        "PAYMENT_PROVIDER": "deferred",
        "PAYMENT_RESERVATION_SECONDS": "2",
        "PAYMENT_WEBHOOK_SECRET": secret,
        "THROTTLE_CHECKOUT": "1000/min",
    }
    with live_server.launched(**env) as (_process, port):

        def buy(i: int) -> str:
            status, body = live_server.request(
                port,
                "POST",
                "/api/v1/checkout/",
                {"lines": [{"sku": shop.sku(0), "quantity": 1 + i % 2}]},
                {"Authorization": f"Token token-{shop.users[i].pk:034d}", "Idempotency-Key": "r"},
            )
            assert status == 202, body
            return orjson.loads(body)["number"]

        with ThreadPoolExecutor(8) as pool:
            numbers = list(pool.map(buy, range(40)))
        held = 60 - shop.stock(0)
        assert held == sum(1 + i % 2 for i in range(40))

        rng = random.Random(7)
        outcomes = {n: rng.choice(["succeeded"] * 3 + ["failed", None]) for n in numbers}

        def settle(number: str) -> None:
            if outcomes[number] is None:
                return  # never confirmed: the expiry returns its units
            time.sleep(rng.uniform(0, 3.0))  # some before expires_at, some after
            body, signature = signed(event(number, outcomes[number]), secret)
            status, _ = send_raw(port, body, {"X-Shopfast-Signature": signature})
            assert status == 200

        threads = [threading.Thread(target=settle, args=(n,)) for n in numbers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert wait_until(lambda: "pending_payment" not in statuses(numbers).values(), 30)
    final = statuses(numbers)
    lines = dict(Order.objects.filter(number__in=numbers).values_list("number", "total"))
    paid_units = sum(int(lines[n] / 10) for n, s in final.items() if s == "paid")
    assert set(final.values()) <= {"paid", "payment_failed", "expired"}
    assert shop.stock(0) == 60 - paid_units  # every unit not paid for came back, once
    results = dict(
        PaymentEvent.objects.filter(order__number__in=numbers).values_list(
            "order__number", "result"
        )
    )
    for number, status in final.items():
        if outcomes[number] is None:
            assert status == "expired" and number not in results
        elif status == "expired":  # its outcome came after expires_at: a success is voided
            late = {"succeeded": "voided", "failed": "ignored"}[outcomes[number]]
            assert results[number] == late
        else:
            assert status == {"succeeded": "paid", "failed": "payment_failed"}[outcomes[number]]
    sold = StockMovement.objects.filter(reason="sale").values_list("delta", flat=True)
    back = StockMovement.objects.exclude(reason="sale").values_list("delta", flat=True)
    assert -sum(sold) - sum(back) == paid_units


def send_raw(port: int, body: bytes, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/v1/payments/webhook/",
            body,
            {"Content-Type": "application/json", **headers},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
