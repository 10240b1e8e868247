"""Failure drills against the local cluster (``perf/cluster.py``): ``make cluster-drill``.

Buyers check out one unit at a time with an ``Idempotency-Key`` and, on anything but a final
answer (a 503, a reset connection), retry the same request with the same key; browsers page the
catalog. Meanwhile the drills break one part each and count what the clients saw:

1. the synchronous standby's PostgreSQL is killed: reads fall back to the primary;
2. one app instance is killed: HAProxy routes around it;
3. Redis is killed: the shop keeps serving (degraded caches), then Redis comes back;
4. the primary's PostgreSQL is killed (SIGKILL): Patroni promotes the synchronous standby.

Then the database is checked: every order a client saw a ``201`` for exists (lost), no key made
two orders (duplicated), the drill's SKUs lost exactly the units on its orders (stock exact).
A 5xx other than a JSON ``503`` with ``Retry-After`` counts as a failure. The last line:

    drill: A acknowledged orders, L lost, D duplicated, stock exact: yes|no, unavailable S s, 5xx F

Exit 0 when L = D = F = 0, the stock is exact and every instance serves a checkout afterwards
(no restart). Starts the cluster when it is not running, and stops it again afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from perf import cluster, cluster_checks
from perf.cluster_checks import SKUS, django_setup, request, shop_prepare, units_left

RETRY_FOR = 60.0  # seconds a buyer keeps retrying one key


@dataclass
class Tally:
    """What the clients saw, shared by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> order number
    conflicting: list[str] = field(default_factory=list)  # a key answered with two numbers
    statuses: Counter = field(default_factory=Counter)
    unclean: list[str] = field(default_factory=list)  # 5xx that are not a JSON 503 + Retry-After
    failed_at: list[float] = field(default_factory=list)  # when a request was not served
    gave_up: int = 0

    def unreached(self, started: float) -> None:
        with self.lock:
            self.statuses["connection error"] += 1
            self.failed_at.append(started)

    def seen(self, what: str, status: int, headers, body: bytes, started: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status < 500:
                return
            self.failed_at.append(started)
            clean = status == 503 and headers.getheader("Retry-After") and _json_code(body)
            if not clean:
                self.unclean.append(f"{what}: {status} {body[:120]!r}")


def _json_code(body: bytes) -> str | None:
    try:
        return json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None


def buyer(token: str, tally: Tally, stop: threading.Event) -> None:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    while not stop.is_set():
        key = uuid.uuid4().hex
        body = json.dumps({"lines": [{"sku": random.choice(SKUS), "quantity": 1}]})
        give_up = time.monotonic() + RETRY_FOR
        while time.monotonic() < give_up:
            started = time.monotonic()
            try:
                status, response, raw = request(
                    "POST", "/api/v1/checkout/", body, {**headers, "Idempotency-Key": key}
                )
            except OSError:
                tally.unreached(started)
                time.sleep(0.5)
                continue
            tally.seen("checkout", status, response, raw, started)
            if status == 201:
                number = json.loads(raw)["number"]
                with tally.lock:
                    if tally.acknowledged.setdefault(key, number) != number:
                        tally.conflicting.append(key)
                break
            if status < 500 and _json_code(raw) != "idempotency_key_in_flight":
                break  # a final answer
            time.sleep(float(response.getheader("Retry-After") or 1) / 4)
        else:
            with tally.lock:
                tally.gave_up += 1


def browser(tally: Tally, stop: threading.Event) -> None:
    orderings = ["", "?ordering=price", "?ordering=-price", "?ordering=name", "?q=cotton"]
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, response, raw = request("GET", "/api/v1/products/" + random.choice(orderings))
        except OSError:
            tally.unreached(started)
            time.sleep(0.2)
            continue
        tally.seen("list", status, response, raw, started)


class Load:
    """Buyers and browsers in threads for as long as the block lasts."""

    def __init__(self, tokens: list[str], browsers: int) -> None:
        self.tally = Tally()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=buyer, args=(t, self.tally, self.stop)) for t in tokens
        ] + [
            threading.Thread(target=browser, args=(self.tally, self.stop)) for _ in range(browsers)
        ]

    def __enter__(self) -> Tally:
        for thread in self.threads:
            thread.start()
        return self.tally

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(RETRY_FOR + 20)


def orders_check(tally: Tally, before: dict[str, int], since) -> tuple[int, int, bool]:
    """Return (lost, duplicated, stock exact) for the orders the drill's clients made."""
    from django.db import connections
    from django.db.models import Sum

    from apps.orders.models import IdempotencyKey, Order, OrderLine

    connections.close_all()  # the primary may have moved
    numbers = set(tally.acknowledged.values())
    found = set(Order.objects.filter(number__in=numbers).values_list("number", flat=True))
    lost = len(numbers - found)
    made = Order.objects.filter(created_at__gte=since, lines__sku__in=SKUS).distinct()
    keyed = IdempotencyKey.objects.filter(order__in=made).values("order").distinct().count()
    # An order no key points at, or a key answered with two numbers, is a duplicate.
    duplicated = (made.count() - keyed) + len(tally.conflicting)
    holding = made.exclude(status__in=[Order.Status.PAYMENT_FAILED, Order.Status.CANCELLED])
    sold = (
        OrderLine.objects.filter(order__in=holding, sku__in=SKUS).aggregate(u=Sum("quantity"))["u"]
        or 0
    )
    after = units_left()
    exact = sum(before.values()) - sum(after.values()) == sold
    return lost, duplicated, exact


def unavailable_seconds(tally: Tally) -> float:
    if not tally.failed_at:
        return 0.0
    return max(tally.failed_at) - min(tally.failed_at)


def every_instance_sells(token: str, apps: int) -> bool:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    body = json.dumps({"lines": [{"sku": SKUS[0], "quantity": 1}]})
    for i in range(apps):
        key = {"Idempotency-Key": uuid.uuid4().hex}
        status, _, raw = request("POST", "/api/v1/checkout/", body, {**headers, **key},
                                 port=cluster.app_port(i))  # fmt: skip
        if status != 201:
            print(f"  app{i + 1} after the drill: {status} {raw[:200]!r}")
            return False
    return True


def _summary(name: str, tally: Tally) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items(), key=str))
    return (
        f"{name}: {len(tally.acknowledged)} orders, unavailable {unavailable_seconds(tally):.1f} s,"
        f" unclean 5xx {len(tally.unclean)} ({statuses})"
    )


def _unclean(tally: Tally) -> None:
    if tally.unclean:
        print("  unclean answers, first ones:", *tally.unclean[:5], sep="\n    ", flush=True)


# --- the drills -----------------------------------------------------------------------------------
def kill_postgres(node: cluster.Node) -> None:
    pid = node.postmaster_pid()
    if pid:
        os.kill(pid, signal.SIGKILL)


def drill_replica_down(tokens, seconds: float) -> bool:
    standby = next(n for n in cluster.NODES if n.rest("/replica")[0] == 200)
    with Load(tokens, browsers=3) as tally:
        time.sleep(seconds / 3)
        kill_postgres(standby)
        time.sleep(seconds * 2 / 3)
    cluster.wait_for("the standby back", lambda: cluster.sync_standby() is not None, 120)
    print(_summary(f"replica down ({standby.name} killed)", tally), flush=True)
    _unclean(tally)
    return not tally.unclean and not tally.gave_up


def drill_app_down(tokens, seconds: float, apps: int) -> bool:
    victim = 2 if apps > 1 else 1
    env = cluster.app_environment()
    with Load(tokens, browsers=3) as tally:
        time.sleep(seconds / 3)
        pid = int((cluster.STATE / "pids" / f"app{victim}.pid").read_text())
        os.killpg(pid, signal.SIGKILL)
        time.sleep(seconds * 2 / 3)
    args = argparse.Namespace(workers=1, blocking_threads=2)
    log = cluster.STATE / "logs" / f"app{victim}.log"
    server = cluster.harness.start_server(cluster.app_port(victim - 1), log, args, env)
    (cluster.STATE / "pids" / f"app{victim}.pid").write_text(str(server.pid))
    cluster.wait_for(f"app{victim} again", lambda: cluster.http_ok(cluster.app_port(victim - 1)))
    print(_summary(f"app instance down (app{victim} killed)", tally), flush=True)
    _unclean(tally)
    return not tally.unclean and not tally.gave_up and tally.statuses[200] > 0


def drill_redis_down(tokens, seconds: float) -> bool:
    with Load(tokens, browsers=3) as tally:
        time.sleep(seconds / 3)
        cluster.stop("redis")
        time.sleep(seconds / 3)
        cluster.spawn("redis", cluster.redis_command())
        time.sleep(seconds / 3)
    print(_summary("Redis down (killed, then started again)", tally), flush=True)
    _unclean(tally)
    return not tally.unclean and not tally.gave_up and tally.statuses[200] > 0


def drill_failover(tokens, seconds: float, apps: int) -> tuple[str, bool]:
    from django.utils import timezone

    since = timezone.now()
    before = units_left()
    primary = cluster.leader()
    assert primary is not None
    with Load(tokens, browsers=3) as tally:
        time.sleep(seconds / 3)
        killed_at = time.monotonic()
        kill_postgres(primary)
        cluster.wait_for("a new primary", lambda: (cluster.leader() or primary) != primary, 120)
        promoted = time.monotonic() - killed_at
        time.sleep(max(seconds * 2 / 3 - promoted, 5))
    lost, duplicated, exact = orders_check(tally, before, since)
    recovered = every_instance_sells(tokens[0], apps)
    print(_summary(f"primary killed ({primary.name}, promoted in {promoted:.1f} s)", tally))
    _unclean(tally)
    cluster.wait_for("the old primary back as a standby", lambda: cluster.sync_standby(), 180)
    line = (
        f"drill: {len(tally.acknowledged)} acknowledged orders, {lost} lost,"
        f" {duplicated} duplicated, stock exact: {'yes' if exact else 'no'},"
        f" unavailable {unavailable_seconds(tally):.1f} s, 5xx {len(tally.unclean)}"
    )
    ok = not (lost or duplicated or tally.unclean or tally.gave_up) and exact and recovered
    return line, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.cluster_drill", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30, help="length of the failover drill")
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--only-failover", action="store_true", help="skip the other drills")
    args = parser.parse_args(argv)
    started_here = not (cluster.STATE / "pids").exists()
    if started_here:
        cluster.cluster_up(int(os.environ.get("CLUSTER_APPS", 3)), cluster.DEMO_PRODUCTS)
    apps = int((cluster.STATE / "apps").read_text())
    try:
        django_setup()
        tokens = shop_prepare(args.buyers)
        try:
            cluster_checks.run_checks(apps, tokens[0])
            ok = True
        except cluster_checks.CheckFailed as failure:
            print(f"cluster check FAILED: {failure}")
            ok = False
        if not args.only_failover:
            ok &= drill_replica_down(tokens, 12)
            ok &= drill_app_down(tokens, 12, apps)
            ok &= drill_redis_down(tokens, 15)
        line, failover_ok = drill_failover(tokens, args.seconds, apps)
        ok &= failover_ok
    finally:
        if started_here:
            cluster.cluster_down()
    print(line, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
