"""A checkout whose process is killed mid-payment heals by itself (a real server, kill -9)."""

import os
import signal
import threading
import time
from pathlib import Path

import orjson

from apps.orders.models import IdempotencyKey, Order
from apps.orders.tests.shops import shop_build
from tests import live_server
from tests.live_server import wait_until


def workers_of(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.update(int(c) for c in (task / "children").read_text().split())
    return children


def test_a_checkout_killed_while_the_provider_answers_holds_nothing_and_its_key_buys_once(
    transactional_db, tmp_path
):
    shop = shop_build()
    gate = tmp_path / "provider-hangs"
    gate.touch()
    env = {"PAYMENT_PROVIDER": "tests.slow_provider.SlowProvider", "SLOW_PROVIDER_GATE": str(gate)}
    request = {"lines": [{"sku": shop.sku(0), "quantity": 3}]}
    headers = {"Authorization": f"Token token-{shop.users[0].pk:034d}", "Idempotency-Key": "k-9"}
    with live_server.launched(workers=1, **env) as (process, port):
        (victim,) = workers_of(process.pid)
        answers: list = []

        def first_try() -> None:
            try:
                answers.append(
                    live_server.request(port, "POST", "/api/v1/checkout/", request, headers)
                )
            except OSError as error:
                answers.append(error)

        buyer = threading.Thread(target=first_try)
        buyer.start()
        time.sleep(1.5)  # the request is waiting on the provider now
        os.kill(victim, signal.SIGKILL)
        buyer.join(30)
        assert answers and isinstance(answers[0], OSError | tuple)
        assert not isinstance(answers[0], tuple) or answers[0][0] >= 500
        # Nothing of it stayed: no order, no key, no stock taken.
        assert Order.objects.count() == 0 and IdempotencyKey.objects.count() == 0
        assert shop.stock(0) == 10

        gate.unlink()  # the provider answers at once again
        assert wait_until(lambda: workers_of(process.pid) - {victim}, 20)
        assert wait_until(lambda: live_server.get(port, "/healthz")[0] == 200, 20)
        started = time.monotonic()
        status, body = live_server.request(port, "POST", "/api/v1/checkout/", request, headers)
        again = live_server.request(port, "POST", "/api/v1/checkout/", request, headers)

    # The retry is answered at once with the final outcome (no "in flight" wait), and once.
    assert status == 201 and time.monotonic() - started < 5
    assert again == (status, body)
    assert orjson.loads(body)["status"] == "paid"
    assert Order.objects.count() == 1 and shop.stock(0) == 7
