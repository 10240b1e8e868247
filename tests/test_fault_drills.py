"""Fault drills on the real server: PostgreSQL or Redis away under load, then back.

PostgreSQL away answers 503 with Retry-After; Redis away changes no answer. Neither loses or
doubles an order or a unit of stock, and both heal without a restart.

The server reaches PostgreSQL through a pgbouncer the test starts and stops: with the bouncer gone
every new connection is refused, as with the database host down, while the test's own
connection (direct) can count what was written.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import connection
from psycopg import conninfo
from rest_framework.authtoken.models import Token

from apps.accounts.tests.factories import UserFactory
from apps.core.tests.redis_server import RedisServer
from apps.inventory.models import Stock
from apps.orders.models import Order
from perf.harness import free_port
from perf.pgbouncer import pgbouncer_start
from tests import live_server

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE_AFTER, OUTAGE_SECONDS, DRILL_SECONDS = 1.5, 10.0, 14.0  # the 10 s outage


def direct_upstream() -> str:
    settings = connection.settings_dict
    return conninfo.make_conninfo(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"] or "postgres",
        dbname=settings["NAME"],
    )


@dataclass
class Shop:
    user: object
    auth: dict[str, str]
    variant: object
    units_before: int


@pytest.fixture
def shop() -> Shop:
    call_command("seed_catalog", products=20, seed=9, verbosity=0)
    user = UserFactory()
    token = Token.objects.create(user=user).key
    variant = Stock.objects.filter(quantity__gte=80).select_related("variant").first().variant
    return Shop(user, {"Authorization": f"Token {token}"}, variant, units_of(variant))


def drill(shop: Shop, stop, start, **env: str) -> list[tuple[str, int, dict, dict]]:
    """Buyers, order readers and readiness probes for DRILL_SECONDS; the dependency goes away
    (``stop``) after OUTAGE_AFTER seconds for OUTAGE_SECONDS (``start``). Return every answer."""
    answers: list[tuple[str, int, dict, dict]] = []
    unsettled: list[str] = []  # keys whose last answer was a 503 when the drill ended
    lock = threading.Lock()

    def buy(app: int, key: str):
        body = {"lines": [{"sku": shop.variant.sku, "quantity": 1}]}
        headers = {**shop.auth, "Idempotency-Key": key}
        status, found, raw = live_server.exchange(app, "POST", "/api/v1/checkout/", body, headers)
        with lock:
            answers.append(("checkout", status, json.loads(raw) if raw else {}, found))
        return status

    def buyer(app: int, started: float) -> None:
        """An idempotent buyer: after a 503 (or its key still in flight), the same key again."""
        key, last = uuid.uuid4().hex, 0
        while time.monotonic() - started < DRILL_SECONDS:
            last = buy(app, key)
            if last in (503, 409):
                time.sleep(0.05)
            else:
                key = uuid.uuid4().hex
        if last in (503, 409):
            unsettled.append(key)

    def reader(app: int, started: float, path: str) -> None:
        while time.monotonic() - started < DRILL_SECONDS:
            status, found, raw = live_server.exchange(app, "GET", path, None, shop.auth)
            with lock:
                answers.append(("GET", status, json.loads(raw) if raw else {}, found))

    def hammer(worker: int, app: int, started: float) -> None:
        if worker % 3 == 0:
            buyer(app, started)
        else:
            reader(app, started, "/api/v1/orders/" if worker % 3 == 1 else "/readyz")

    def outage() -> None:
        time.sleep(OUTAGE_AFTER)
        stop()
        time.sleep(OUTAGE_SECONDS)
        start()

    with live_server.launched(workers=2, **env) as (_, app):
        started = time.monotonic()
        with ThreadPoolExecutor(7) as pool:
            pool.submit(outage)
            list(pool.map(lambda worker: hammer(worker, app, started), range(6)))
        # Healed, with no restart: the same server answers again once the dependency does.
        for path in ("/readyz", "/api/v1/orders/"):
            ok = live_server.wait_until(
                lambda path=path: (
                    live_server.request(app, "GET", path, headers=shop.auth)[0] == 200
                ),
                15,
            )
            assert ok, path
        for key in unsettled:  # the buyer comes back for the answer it never got
            assert live_server.wait_until(lambda key=key: buy(app, key) not in (503, 409), 15)
    return answers


def assert_orders_exact(shop: Shop, answers) -> int:
    """Nothing lost, nothing doubled: every 201 is an order, every order a 201, stock exact."""
    created = [
        body["number"] for kind, status, body, _ in answers if (kind, status) == ("checkout", 201)
    ]
    assert created and len(set(created)) == len(created)
    assert set(Order.objects.filter(user=shop.user).values_list("number", flat=True)) == set(
        created
    )
    assert shop.units_before - units_of(shop.variant) == len(created)
    return len(created)


def test_the_database_away_for_seconds_under_load_is_503s_then_exact_again(shop):
    # With PostgreSQL stopped for 10 s under load, 136 requests answered 500 server_error.
    port = free_port()
    bouncers = [pgbouncer_start(direct_upstream(), port=port)]
    url = f"postgres://{bouncers[0].user}@127.0.0.1:{port}/{connection.settings_dict['NAME']}"
    try:
        answers = drill(
            shop,
            stop=bouncers[0].stop,
            start=lambda: bouncers.append(pgbouncer_start(direct_upstream(), port=port)),
            DATABASE_URL=url,
        )
    finally:
        for bouncer in bouncers:
            bouncer.stop()

    statuses = [status for _, status, _, _ in answers]
    assert [(kind, body) for kind, status, body, _ in answers if status == 500] == []
    unavailable = [(body, found) for _, status, body, found in answers if status == 503]
    assert unavailable, statuses
    for body, found in unavailable:
        assert (
            body["code"] in ("service_unavailable", "not_ready") and int(found["retry-after"]) > 0
        )
    orders = assert_orders_exact(shop, answers)
    print(
        f"drill database: {orders} acknowledged orders, 0 lost, 0 duplicated, stock exact: yes, "
        f"{len(unavailable)} answers 503 with Retry-After, other 5xx: 0, {len(answers)} answers"
    )


def test_redis_away_for_seconds_under_load_changes_no_answer_and_loses_nothing(shop):
    redis = RedisServer()
    redis.start()
    try:
        answers = drill(
            shop, stop=redis.stop, start=redis.start, REDIS_URL=redis.url, CACHE_RETRY_SECONDS="0.5"
        )
    finally:
        redis.close()

    statuses = [status for _, status, _, _ in answers]
    assert not [status for status in statuses if status >= 500], statuses
    degraded = [body for kind, _, body, _ in answers if kind == "GET" and body.get("checks")]
    assert any(body["checks"].get("cache") == "degraded" for body in degraded)
    orders = assert_orders_exact(shop, answers)
    print(
        f"drill redis: {orders} acknowledged orders, 0 lost, 0 duplicated, stock exact: yes, "
        f"5xx: 0, {len(answers)} answers"
    )


def units_of(variant) -> int:
    return sum(Stock.objects.filter(variant=variant).values_list("quantity", flat=True))


def test_throttles_keep_limiting_on_the_real_server_while_redis_is_away():
    # 130 token requests while Redis was down: not one 429, the limits simply stopped.
    redis = RedisServer()
    redis.start()
    try:
        env = {"REDIS_URL": redis.url, "THROTTLE_TOKEN": "5/min", "CACHE_RETRY_SECONDS": "0.5"}
        with live_server.launched(workers=1, **env) as (_, app):
            redis.stop()
            body = {"username": "nobody", "password": "wrong-password"}
            statuses = [
                live_server.request(app, "POST", "/api/v1/auth/token/", body)[0] for _ in range(12)
            ]
    finally:
        redis.close()

    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429] * 7
