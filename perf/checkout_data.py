"""Data of the write-path throughput run (``perf.checkout_compare``): buyers, SKUs, stock, checks.

Only for the run's own database: ``state_reset`` empties its orders and ledger.
"""

from __future__ import annotations

import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Max, Sum
from rest_framework.authtoken.models import Token

from apps.cart.models import Cart, CartLine
from apps.catalog.models import Category, Product, Variant
from apps.inventory.models import Stock, StockMovement, Warehouse
from apps.orders.models import IdempotencyKey, Order, OrderLine
from apps.payments.models import PaymentEvent

PRICE = Decimal("9.99")
WAREHOUSE_CODE = "ckperf-main"


def buyers_ensure(count: int) -> list[str]:
    """Create buyers ``ckperf-buyer-NNN`` with API tokens where missing; return the tokens."""
    user_model = get_user_model()
    names = [f"ckperf-buyer-{i:03d}" for i in range(count)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)  # no hashing cost: these buyers only use tokens
    user_model.objects.bulk_create(
        user_model(username=name, email=f"{name}@perf.invalid", password=unusable)
        for name in names
        if name not in existing
    )
    user_ids = list(user_model.objects.filter(username__in=names).values_list("pk", flat=True))
    with_token = set(Token.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    Token.objects.bulk_create(
        Token(user_id=pk, key=Token.generate_key()) for pk in user_ids if pk not in with_token
    )
    return list(
        Token.objects.filter(user_id__in=user_ids).order_by("user_id").values_list("key", flat=True)
    )


def catalog_ensure(skus: list[str], hot_sku: str) -> None:
    """Create one product, variant and stock row (one warehouse) per SKU where missing."""
    category, _ = Category.objects.get_or_create(slug="ckperf", defaults={"name": "Checkout perf"})
    warehouse, _ = Warehouse.objects.get_or_create(
        code=WAREHOUSE_CODE, defaults={"name": "Checkout perf", "priority": 1}
    )
    wanted = [*skus, hot_sku]
    existing = set(Variant.objects.filter(sku__in=wanted).values_list("sku", flat=True))
    missing = [sku for sku in wanted if sku not in existing]
    if missing:
        Product.objects.bulk_create(
            Product(slug=sku.lower(), name=f"Perf item {sku}", category=category) for sku in missing
        )
        product_ids = dict(
            Product.objects.filter(slug__in=[s.lower() for s in missing]).values_list("slug", "pk")
        )
        Variant.objects.bulk_create(
            Variant(product_id=product_ids[sku.lower()], sku=sku, name="One size", price=PRICE)
            for sku in missing
        )
    variant_ids = dict(Variant.objects.filter(sku__in=wanted).values_list("pk", "sku"))
    stocked = set(
        Stock.objects.filter(variant_id__in=variant_ids, warehouse=warehouse).values_list(
            "variant_id", flat=True
        )
    )
    Stock.objects.bulk_create(
        Stock(variant_id=pk, warehouse=warehouse, quantity=0)
        for pk in variant_ids
        if pk not in stocked
    )


def state_reset(initial: dict[str, int]) -> None:
    """Empty orders (their payment events), keys, carts and the ledger, and set each SKU's stock
    back to ``initial``."""
    tables = ", ".join(
        model._meta.db_table
        for model in (PaymentEvent, OrderLine, IdempotencyKey, Order, StockMovement, CartLine, Cart)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")
        for quantity in sorted(set(initial.values())):
            skus = [sku for sku, units in initial.items() if units == quantity]
            Stock.objects.filter(variant__sku__in=skus).update(quantity=quantity)
        # Fresh statistics and no dead tuples: every run starts from the same state.
        cursor.execute("VACUUM ANALYZE")


def _orders_top() -> int:
    return Order.objects.aggregate(top=Max("pk"))["top"] or 0


def orders_watermark(*, quiet: float = 1.0, timeout: float = 15.0) -> int:
    """Return the highest order id once no order has been added for ``quiet`` seconds.

    wrk stops counting at its deadline while the server still finishes the requests it has
    accepted: waiting for them keeps one run's orders out of the next run's count.
    """
    deadline = time.monotonic() + timeout
    top = _orders_top()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        latest = _orders_top()
        if latest == top:
            break
        top = latest
    return top


def orders_since(watermark: int) -> int:
    """Count the orders created after ``watermark`` once the server has gone quiet."""
    orders_watermark()
    return Order.objects.filter(pk__gt=watermark).count()


def state_problems(initial: dict[str, int]) -> list[str]:
    """Check the run's database: orders paid and answered, stock never negative and conserved."""
    problems = []
    unpaid = Order.objects.exclude(status=Order.Status.PAID).count()
    if unpaid:
        problems.append(f"{unpaid} orders are not paid")
    unanswered = IdempotencyKey.objects.filter(response_status__isnull=True).count()
    if unanswered:
        problems.append(f"{unanswered} idempotency keys have no stored response")
    negative = Stock.objects.filter(quantity__lt=0).count()
    if negative:
        problems.append(f"{negative} stock rows are negative")
    sold = dict(
        OrderLine.objects.values_list("sku")
        .annotate(units=Sum("quantity"))
        .values_list("sku", "units")
    )
    left = dict(
        Stock.objects.filter(variant__sku__in=list(initial))
        .values_list("variant__sku")
        .annotate(units=Sum("quantity"))
        .values_list("variant__sku", "units")
    )
    wrong = [sku for sku, units in initial.items() if left.get(sku, 0) + sold.get(sku, 0) != units]
    if wrong:
        problems.append(
            f"stock not conserved (left + sold != initial) for {len(wrong)} SKUs, e.g. {wrong[:5]}"
        )
    ledger = -(
        StockMovement.objects.filter(reason=StockMovement.Reason.SALE).aggregate(
            units=Sum("delta")
        )["units"]
        or 0
    )
    if ledger != sum(sold.values()):
        problems.append(f"ledger sales {ledger} != units on order lines {sum(sold.values())}")
    return problems
