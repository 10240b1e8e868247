"""One catalog for every catalog benchmark, so ours and the baseline serve the same rows.

Also reports the in-run gates' figures (what their tests pass to ``record_property``) after the
run and in the ``--benchmark-json`` file, so ``make bench`` keeps the ratios the gates decided on,
including the importers' (their gate times in a child process, not with the benchmark fixture).
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, TagFactory
from apps.inventory.models import Stock
from apps.inventory.tests.factories import WarehouseFactory

PRODUCT_COUNT = 60
# A full page at the maximum page size (100), and then some: renderer and selector benchmarks.
LARGE_PRODUCT_COUNT = 120
PERF_URLCONF = "perf.urls"
OURS_URL = "/api/v1/products/"
# The same view with every cache layer off: what the gate times, code against code.
OURS_UNCACHED_URL = "/perf/uncached/products/"
BASELINE_URL = "/perf/baseline/products/"


_gate_figures: dict[str, dict[str, Any]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.user_properties:
        _gate_figures[report.nodeid] = {"outcome": report.outcome, **dict(report.user_properties)}


def pytest_benchmark_update_json(config, benchmarks, output_json: dict) -> None:
    output_json["gates"] = _gate_figures


def pytest_terminal_summary(terminalreporter) -> None:
    if not _gate_figures:
        return
    terminalreporter.section("in-run gates (ratios from this run)")
    for nodeid, figures in _gate_figures.items():
        terminalreporter.write_line(nodeid)
        for name, value in figures.items():
            terminalreporter.write_line(f"    {name}: {value}")


@pytest.fixture
def bench_catalog(db) -> list[str]:
    return catalog_build(PRODUCT_COUNT)


@pytest.fixture
def bench_catalog_large(db) -> list[str]:
    return catalog_build(LARGE_PRODUCT_COUNT)


def catalog_build(product_count: int) -> list[str]:
    """Create listed products over a small category tree; return their slugs, newest first.

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
    # Built in bulk (two statements, no per-row signals): the fixture runs for many tests.
    products = [
        ProductFactory.build(
            slug=f"bench-product-{n:03d}",
            name=f"Bench Product {n}",
            category=categories[n % len(categories)],
            created_at=start + timedelta(minutes=n),
        )
        for n in range(product_count)
    ]
    Product.objects.bulk_create(products)
    Product.tags.through.objects.bulk_create(
        Product.tags.through(product_id=product.pk, tag_id=tag.pk)
        for product in products
        for tag in rng.sample(tags, rng.randint(2, 4))
    )

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
    assert len(slugs) == product_count
    return slugs
