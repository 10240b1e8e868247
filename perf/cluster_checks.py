"""Checks on a running cluster: reads reach the replica, writes are seen at once on every instance.

``make cluster-smoke`` (CI): start the cluster, run these, stop it. ``make cluster-drill`` runs
them first too. Each check prints one line and raises ``CheckFailed`` when it does not hold.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import uuid
from decimal import Decimal

from perf import cluster

COHERENCE_SKU = "DRILL-COHERENCE"
SKUS = [f"DRILL-{i:03d}" for i in range(20)]
UNITS = 100_000  # per SKU: the drill measures availability, not selling out


class CheckFailed(Exception):
    pass


def request(method: str, path: str, body=None, headers=None, port: int = cluster.APP_PORT):
    conn = http.client.HTTPConnection(cluster.HOST, port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        conn.close()


# --- the shop's data, through Django on the primary's HAProxy port -------------------------------
def django_setup() -> None:
    os.environ.update(cluster.app_environment())
    os.environ.update({"DATABASE_REPLICA_URL": "", "DJANGO_SETTINGS_MODULE": "perf.settings_perf"})
    import django

    django.setup()


def shop_prepare(buyers: int) -> list[str]:
    """Create the drill's buyers and SKUs (stock far above what it sells); return the tokens."""
    from apps.inventory.models import Stock
    from perf import checkout_data

    tokens = checkout_data.buyers_ensure(buyers)
    checkout_data.catalog_ensure(SKUS[1:], SKUS[0])
    Stock.objects.filter(variant__sku__in=SKUS).update(quantity=UNITS)
    return tokens


def units_left() -> dict[str, int]:
    from django.db.models import Sum

    from apps.inventory.models import Stock

    rows = Stock.objects.filter(variant__sku__in=SKUS).values_list("variant__sku")
    return dict(rows.annotate(units=Sum("quantity")).values_list("variant__sku", "units"))


def _get(port: int, path: str) -> dict:
    status, _, raw = request("GET", path, port=port)
    if status != 200:
        raise CheckFailed(f"GET {path} on :{port}: {status} {raw[:200]!r}")
    return json.loads(raw)


def statements_by_alias(port: int) -> dict[str, float]:
    """The instance's statement counters per database alias (django-prometheus, /metrics)."""
    status, _, raw = request("GET", "/metrics", port=port)
    if status != 200:
        raise CheckFailed(f"GET /metrics on :{port}: {status}")
    counts = {}
    for line in raw.decode().splitlines():
        if line.startswith("django_db_execute_total{"):
            alias = line.split('alias="', 1)[1].split('"', 1)[0]
            counts[alias] = float(line.rsplit(" ", 1)[1])
    return counts


def check_reads_reach_the_replica(apps: int) -> None:
    """An uncached product list on each instance runs on the replica, nothing on the primary."""
    for i in range(apps):
        port = cluster.app_port(i)
        before = statements_by_alias(port)
        # A search nobody made before: no cached response can answer it.
        _get(port, f"/api/v1/products/?q=cotton-{uuid.uuid4().hex[:8]}")
        after = statements_by_alias(port)
        on_replica = after.get("replica", 0) - before.get("replica", 0)
        on_primary = after.get("default", 0) - before.get("default", 0)
        if on_replica < 1 or on_primary:
            raise CheckFailed(
                f"app{i + 1}: an uncached list ran {on_replica:.0f} statements on the replica,"
                f" {on_primary:.0f} on the primary"
            )
    print(f"routed read: an uncached product list on each of {apps} instances ran on the replica")


def staff_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(
        username="cluster-staff", defaults={"is_staff": True, "email": "staff@cluster.invalid"}
    )
    return Token.objects.get_or_create(user=user)[0].key


def coherence_prepare() -> str:
    """One product with one unit of one SKU; return its slug."""
    from apps.inventory.models import Stock
    from perf import checkout_data

    checkout_data.catalog_ensure([], COHERENCE_SKU)
    Stock.objects.filter(variant__sku=COHERENCE_SKU).update(quantity=1)
    return COHERENCE_SKU.lower()


def check_writes_are_seen_on_every_instance(apps: int, buyer_token: str) -> None:
    slug = coherence_prepare()
    detail = f"/api/v1/products/{slug}/"
    for i in range(apps):  # every instance caches the product first
        _get(cluster.app_port(i), detail)
    price = f"{Decimal(1 + uuid.uuid4().int % 9000) / 100:.2f}"
    headers = {"Authorization": f"Token {staff_token()}", "Content-Type": "application/json"}
    body = json.dumps({"prices": [{"sku": COHERENCE_SKU, "price": price}]})
    status, _, raw = request("POST", "/api/v1/admin/prices/", body, headers, cluster.app_port(0))
    if status != 200:
        raise CheckFailed(f"price change through app1: {status} {raw[:200]!r}")
    seen = [_get(cluster.app_port(i), detail) for i in range(1, apps)]
    prices = {v["price"] for product in seen for v in product["variants"]}
    if prices != {price}:
        raise CheckFailed(f"price {price} set through app1; other instances show {prices}")
    print(f"coherence: a price set through app1 ({price}) is served at once by app2..app{apps}")

    headers = {"Authorization": f"Token {buyer_token}", "Content-Type": "application/json"}
    headers["Idempotency-Key"] = uuid.uuid4().hex
    body = json.dumps({"lines": [{"sku": COHERENCE_SKU, "quantity": 1}]})
    status, _, raw = request("POST", "/api/v1/checkout/", body, headers, cluster.app_port(0))
    if status != 201:
        raise CheckFailed(f"the last unit sold through app1: {status} {raw[:200]!r}")
    seen = [_get(cluster.app_port(i), detail) for i in range(1, apps)]
    stocked = [p["in_stock"] or p["variants"][0]["available"] for p in seen]
    if any(stocked):
        raise CheckFailed(f"sold out through app1, still in stock on other instances: {stocked}")
    print(f"coherence: the last unit sold through app1 is out of stock at once on app2..app{apps}")


def run_checks(apps: int, buyer_token: str) -> None:
    check_reads_reach_the_replica(apps)
    check_writes_are_seen_on_every_instance(apps, buyer_token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.cluster_checks", description=__doc__)
    parser.add_argument("--apps", type=int, default=int(os.environ.get("CLUSTER_APPS", 3)))
    args = parser.parse_args(argv)
    started_here = not (cluster.STATE / "pids").exists()
    if started_here:
        cluster.cluster_up(args.apps, cluster.DEMO_PRODUCTS)
    try:
        django_setup()
        tokens = shop_prepare(1)
        run_checks(int((cluster.STATE / "apps").read_text()), tokens[0])
    except CheckFailed as failure:
        print(f"cluster smoke: FAILED: {failure}")
        return 1
    finally:
        if started_here:
            cluster.cluster_down()
    print("cluster smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
