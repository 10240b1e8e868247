"""One catalog for every product-list benchmark, so ours and the baseline serve the same rows."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, TagFactory
from apps.inventory.models import Stock
from apps.inventory.tests.factories import WarehouseFactory

PRODUCT_COUNT = 60
PERF_URLCONF = "config.urls_perf"
OURS_URL = "/api/v1/products/"
BASELINE_URL = "/perf/baseline/products/"


@pytest.fixture
def bench_catalog(db) -> list[str]:
    """Create 60 listed products over a small category tree; return their slugs, newest first.

    Each product has 2-4 tags and 2-4 variants (one in five also has an inactive one) stocked in
    two warehouses; roughly one product in six is sold out everywhere.
    """
    rng = random.Random(7)
    roots = [
        CategoryFactory(name=name, slug=slug) for name, slug in (("Men", "men"), ("Women", "women"))
    ]
    categories = [
        *roots,
        *(
            CategoryFactory(name=f"{root.name} {kind}", slug=f"{root.slug}-{kind}", parent=root)
            for root in roots
            for kind in ("shirts", "shoes", "bags")
        ),
    ]
    tags = [TagFactory(name=f"Tag {n}", slug=f"bench-tag-{n:02d}") for n in range(12)]
    warehouses = [
        WarehouseFactory(code="bench-north", priority=1),
        WarehouseFactory(code="bench-south", priority=2),
    ]

    # Distinct timestamps: the baseline orders by created_at alone, ours breaks ties by id.
    start = timezone.now() - timedelta(days=1)
    products = [
        ProductFactory(
            slug=f"bench-product-{n:03d}",
            name=f"Bench Product {n}",
            category=categories[n % len(categories)],
            created_at=start + timedelta(minutes=n),
            tags=rng.sample(tags, rng.randint(2, 4)),
        )
        for n in range(PRODUCT_COUNT)
    ]

    variants = []
    for n, product in enumerate(products):
        for position in range(rng.randint(2, 4)):
            variants.append(
                Variant(
                    product=product,
                    sku=f"BENCH-{n:03d}-{position}",
                    name=f"Size {position}",
                    price=Decimal(rng.randint(500, 20000)) / 100,
                    currency="EUR",
                    position=position,
                )
            )
        if n % 5 == 0:
            variants.append(
                Variant(
                    product=product,
                    sku=f"BENCH-{n:03d}-off",
                    name="Discontinued",
                    price=Decimal("1.00"),
                    currency="EUR",
                    is_active=False,
                    position=9,
                )
            )
    # Bulk inserts fire the statement-level listing triggers once, which keep price/in_stock exact.
    Variant.objects.bulk_create(variants)
    sold_out = {product.pk for n, product in enumerate(products) if n % 6 == 3}
    Stock.objects.bulk_create(
        Stock(
            variant=variant,
            warehouse=warehouse,
            quantity=0 if variant.product_id in sold_out else rng.randint(0, 40),
        )
        for variant in variants
        for warehouse in warehouses
    )

    listed = Product.objects.filter(is_active=True, price__isnull=False).order_by("-created_at")
    slugs = list(listed.values_list("slug", flat=True))
    assert len(slugs) == PRODUCT_COUNT
    return slugs
