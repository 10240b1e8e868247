"""A small but varied catalog: enough rows (15 products) for N+1 problems to show."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalog.models import Category, Product, Tag
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, TagFactory, VariantFactory
from apps.inventory.tests.factories import StockFactory, WarehouseFactory


@dataclass
class Catalog:
    categories: dict[str, Category]
    tags: dict[str, Tag]
    products: list[Product] = field(default_factory=list)


@pytest.fixture
def catalog(db) -> Catalog:
    """15 listed products over a 3-level tree, 4 tags, 1-5 variants, stock in 2 warehouses.

    Product i: price 10+i (cheapest variant), created i hours ago, in stock unless i % 5 == 0.
    Plus one inactive and one variant-less product that must never be listed.
    """
    apparel = CategoryFactory(slug="apparel", name="Apparel")
    shoes = CategoryFactory(slug="shoes", name="Shoes", parent=apparel)
    running = CategoryFactory(slug="running", name="Running", parent=shoes)
    books = CategoryFactory(slug="books", name="Books")
    categories = {c.slug: c for c in (apparel, shoes, running, books)}
    tags = {
        t.slug: t
        for t in (TagFactory(slug=s, name=s.title()) for s in ("sale", "new", "eco", "gift"))
    }
    tag_list = list(tags.values())
    warehouses = [
        WarehouseFactory(code="eu-central", priority=1),
        WarehouseFactory(code="eu-west", priority=2),
    ]
    placement = [apparel, shoes, running, books, running]
    now = timezone.now()
    result = Catalog(categories=categories, tags=tags)
    for i in range(15):
        words = "leather running shoe" if i % 2 else "wireless reading lamp"
        product = ProductFactory(
            slug=f"item-{i:02d}",
            name=f"Item {i:02d} {words}",
            description=f"A {words} for everyday use.",
            category=placement[i % len(placement)],
            tags=tag_list[: i % 4 + 1] if i % 3 else [],
            created_at=now - timedelta(hours=i),
        )
        for j in range(i % 5 + 1):
            variant = VariantFactory(product=product, price=Decimal(10 + i + j))
            for warehouse in warehouses:
                StockFactory(
                    variant=variant, warehouse=warehouse, quantity=0 if i % 5 == 0 else j + 1
                )
        result.products.append(product)
    ProductFactory(slug="retired", category=books, is_active=False)
    VariantFactory(product=Product.objects.get(slug="retired"), price=Decimal("5.00"))
    ProductFactory(slug="no-variants", category=books)
    return result
