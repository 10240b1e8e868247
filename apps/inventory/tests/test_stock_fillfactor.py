"""inventory_stock keeps free space on its pages, so a stock feed's updates are HOT updates."""

import pytest
from django.db import connection

from apps.catalog.models import Variant
from apps.catalog.tests.factories import ProductFactory
from apps.inventory.models import Stock, Warehouse
from apps.inventory.tests.test_feeds import feed, write_feed

# Enough rows to fill many pages: at fillfactor 100 about 136 stock rows fit in a page, and on a
# full page an update cannot be HOT.
VARIANTS = 1_500


def stock_rows(variants: int, quantity: int) -> list[str]:
    """Create ``variants`` variants with a stock row in 2 warehouses; return a feed changing all."""
    product = ProductFactory()
    Variant.objects.bulk_create(
        Variant(product=product, sku=f"HOT-{n:05d}", name=f"v{n}", price=1, currency="EUR")
        for n in range(variants)
    )
    warehouses = Warehouse.objects.bulk_create(
        Warehouse(code=code, name=code) for code in ("eu-central", "eu-west")
    )
    Stock.objects.bulk_create(
        Stock(variant=variant, warehouse=warehouse, quantity=quantity)
        for variant in Variant.objects.filter(product=product)
        for warehouse in warehouses
    )
    return [
        f"HOT-{n:05d},{warehouse.code},{quantity + 1}"
        for n in range(variants)
        for warehouse in warehouses
    ]


def table_counters() -> tuple[int, int]:
    """(rows updated, of them HOT) on inventory_stock by this transaction so far."""
    # The xact_ view counts this very transaction (savepoints included), with no wait for the
    # statistics collector: exact, where pg_stat_user_tables is flushed asynchronously.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
            " WHERE relid = 'inventory_stock'::regclass"
        )
        return cursor.fetchone()


def index_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_indexes_size('inventory_stock')")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_stock_pages_are_filled_to_half_only():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'inventory_stock'::regclass")
        assert cursor.fetchone()[0] == ["fillfactor=50"]


@pytest.mark.django_db
def test_a_feed_changing_every_quantity_makes_only_hot_updates(tmp_path):
    lines = stock_rows(VARIANTS, quantity=5)
    updated, hot = table_counters()
    indexes = index_bytes()

    summary = feed(write_feed(tmp_path / "s.csv", lines), batch_size=1_000)

    assert summary.written == len(lines) == 2 * VARIANTS
    after_updated, after_hot = table_counters()
    assert after_updated - updated == len(lines)
    assert after_hot - hot == len(lines)  # no new index entry for any row
    assert index_bytes() == indexes
    assert set(Stock.objects.values_list("quantity", flat=True)) == {6}
