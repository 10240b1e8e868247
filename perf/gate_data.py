"""The perf gate's database: a fresh copy of a seeded template per run, the flash sale's SKU and
buyers, and the invariants that must hold after the load.

Each run gets ``shopfast_perf_gate`` cloned from ``shopfast_perf_gate_tpl`` (``CREATE DATABASE ...
TEMPLATE``: about a second), so every run starts from the same rows. The template is rebuilt
(migrate + seed) only when a migration, the seeding code or the seed arguments change: its
fingerprint is kept as the database's comment.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

from config.bootstrap import database_url_named
from perf.gate_checks import Gate

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "shopfast_perf_gate"
TEMPLATE = "shopfast_perf_gate_tpl"
SEED_ARGS = ("--products", "2000", "--seed", "7")
FLASH_SKU = "FLASH-SALE-1"
ACTIVE = ("placed", "pending_payment", "paid", "fulfilled")  # statuses that keep their units


def _admin(base_url: str) -> psycopg.Connection:
    return psycopg.connect(
        database_url_named(base_url, "postgres"), autocommit=True, connect_timeout=10
    )


def fingerprint() -> str:
    """Hash what the template's rows derive from: migrations, seeding code, seed arguments."""
    digest = hashlib.sha256(" ".join(SEED_ARGS).encode())
    sources = sorted(BASE_DIR.glob("apps/*/migrations/*.py"))
    sources.append(BASE_DIR / "apps" / "devtools" / "seeding.py")
    for path in sources:
        digest.update(str(path.relative_to(BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed (exit {done.returncode})")


def template_ensure(base_url: str, env: dict[str, str]) -> bool:
    """Build the template unless it exists with the current fingerprint; True when built."""
    wanted = fingerprint()
    with _admin(base_url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [TEMPLATE],
        ).fetchone()
        if row and row[0] == wanted:
            return False
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(TEMPLATE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(_ident(TEMPLATE)))
    build_env = {**env, "DATABASE_URL": database_url_named(base_url, TEMPLATE)}
    _manage(build_env, "migrate", "--no-input", "-v", "0")
    _manage(build_env, "seed_catalog", *SEED_ARGS)
    with _admin(base_url) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(_ident(TEMPLATE), sql.Literal(wanted))
        )
    return True


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def database_fresh(base_url: str) -> str:
    """Replace the run's database with a copy of the template; return its URL."""
    with _admin(base_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(DATABASE)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(_ident(DATABASE), _ident(TEMPLATE))
        )
    return database_url_named(base_url, DATABASE)


# --- inside the run's database (Django set up on it) ----------------------------------------------
def flash_sale_prepare(buyers: int) -> list[str]:
    """Create the flash sale's buyers and its SKU, sold out until the sale; return the tokens.

    Sold out during the mixed run, so that its buyers never sample it: the flash sale's units
    are then exactly the ones it sold.
    """
    from apps.inventory.models import Stock
    from perf import checkout_data

    tokens = checkout_data.buyers_ensure(buyers)
    checkout_data.catalog_ensure([], FLASH_SKU)
    Stock.objects.filter(variant__sku=FLASH_SKU).update(quantity=0)
    return tokens


def flash_sale_open(units: int) -> dict[int, int]:
    """Put ``units`` of the flash SKU on sale; return its stock row and units (one warehouse)."""
    from apps.catalog.cache import catalog_invalidate
    from apps.inventory.models import Stock

    rows = Stock.objects.filter(variant__sku=FLASH_SKU)
    opened = dict.fromkeys(rows.values_list("pk", flat=True), units)
    if len(opened) != 1:
        raise RuntimeError(f"{FLASH_SKU} has {len(opened)} stock rows, not one")
    rows.update(quantity=units)
    catalog_invalidate(listing=True)  # a queryset update sends no signal
    return opened


def stock_snapshot() -> dict[int, int]:
    from apps.inventory.models import Stock

    return dict(Stock.objects.values_list("pk", "quantity"))


def invariants_check(initial: dict[int, int], flash_units: int, seen: dict) -> list[Gate]:
    """Hold the database after the load against the stock it started with and what buyers saw.

    ``initial``: every stock row's quantity before the load (the flash SKU's at the sale's start);
    ``seen``: the flash sale's result file (orders and units in its 201 bodies).
    """
    from django.db.models import Sum

    from apps.inventory.models import Stock, StockMovement
    from apps.orders.models import IdempotencyKey, OrderLine

    now = stock_snapshot()
    moved = dict(
        StockMovement.objects.values_list("stock_id")
        .annotate(units=Sum("delta"))
        .values_list("stock_id", "units")
    )
    unbalanced = sorted(
        pk for pk, qty in now.items() if qty != initial.get(pk, 0) + moved.get(pk, 0)
    )
    on_orders = dict(
        OrderLine.objects.filter(order__status__in=ACTIVE)
        .values_list("variant_id")
        .annotate(units=Sum("quantity"))
        .values_list("variant_id", "units")
    )
    decremented = dict(
        StockMovement.objects.values_list("stock__variant_id")
        .annotate(units=Sum("delta"))
        .values_list("stock__variant_id", "units")
    )
    mismatched = sorted(
        variant
        for variant in set(on_orders) | set(decremented)
        if on_orders.get(variant, 0) != -decremented.get(variant, 0)
    )
    negative = sum(1 for qty in now.values() if qty < 0)
    unanswered = IdempotencyKey.objects.filter(response_status__isnull=True).count()
    flash_rows = list(
        Stock.objects.filter(variant__sku=FLASH_SKU).values_list("quantity", flat=True)
    )
    sold = flash_units - sum(flash_rows)
    flash_lines = OrderLine.objects.filter(sku=FLASH_SKU, order__status__in=ACTIVE)
    flash_orders = flash_lines.values("order_id").distinct().count()
    on_flash_lines = flash_lines.aggregate(units=Sum("quantity"))["units"] or 0

    def gate(name: str, value, expected, passed: bool) -> Gate:
        return Gate("invariants", name, value, expected, passed)

    return [
        gate("negative stock rows", negative, "== 0", negative == 0),
        gate(
            "stock rows where now != initial + ledger",
            len(unbalanced),
            "== 0" + (f" (e.g. {unbalanced[:5]})" if unbalanced else ""),
            not unbalanced,
        ),
        gate(
            "variants where units on orders != units decremented",
            len(mismatched),
            "== 0" + (f" (e.g. {mismatched[:5]})" if mismatched else ""),
            not mismatched,
        ),
        gate("idempotency keys without a stored answer", unanswered, "== 0", unanswered == 0),
        gate(
            "flash: units sold (initial - remaining)",
            sold,
            f"== units on order lines {on_flash_lines} == units in 201 bodies {seen['units']}",
            sold == on_flash_lines == seen["units"],
        ),
        gate(
            "flash: orders in the database",
            flash_orders,
            f"== orders answered 201 {seen['orders']}",
            flash_orders == seen["orders"],
        ),
        gate("flash: units sold", sold, f"> 0 and <= {flash_units}", 0 < sold <= flash_units),
    ]


def environment_base() -> dict[str, str]:
    """Return this process's environment without variables that would leak into the run."""
    env = os.environ.copy()
    env.pop("PAYMENT_PROVIDER", None)  # the default InstantProvider
    return env
