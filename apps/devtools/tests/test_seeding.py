"""seed_catalog: shape of the generated catalog, idempotence, growth, determinism, the command."""

import hashlib
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import CommandError, call_command
from django.db.models import Exists, Max, Min, OuterRef

from apps.catalog.models import SEARCH_CONFIG, Category, Product, Tag, Variant
from apps.devtools.seeding import ANCHOR, catalog_seed, category_tree
from apps.inventory.models import Stock, Warehouse

pytestmark = pytest.mark.django_db
N = 30


def catalog_checksum() -> str:
    """Hash every seeded row's content (not ids or updated_at) in a stable order."""
    rows = [
        *Category.objects.order_by("slug").values_list(
            "slug", "name", "path", "depth", "position", "parent__slug"
        ),
        *Product.objects.order_by("slug").values_list(
            "slug",
            "name",
            "description",
            "category__slug",
            "attributes",
            "is_active",
            "created_at",
            "price",
            "currency",
            "in_stock",
        ),
        *Variant.objects.order_by("sku").values_list(
            "sku", "product__slug", "name", "price", "currency", "position", "is_active"
        ),
        *Stock.objects.order_by("variant__sku", "warehouse__code").values_list(
            "variant__sku", "warehouse__code", "quantity"
        ),
        *Product.tags.through.objects.order_by("product__slug", "tag__slug").values_list(
            "product__slug", "tag__slug"
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def catalog_delete() -> None:
    """Remove every product (with its variants, stock rows and tag links)."""
    Product.objects.all().delete()


def test_seeding_creates_the_requested_products_with_two_to_five_variants_each():
    result = catalog_seed(N, seed=42, batch_size=7)

    assert Product.objects.count() == N == result.products
    per_product = Counter(Variant.objects.values_list("product_id", flat=True))
    assert len(per_product) == N
    assert set(per_product.values()) <= {2, 3, 4, 5}
    assert len(set(per_product.values())) > 1
    assert result.variants == Variant.objects.count() == sum(per_product.values())
    assert result.created == {
        "products": N,
        "variants": result.variants,
        "stocks": result.stocks,
        "tag_links": result.tag_links,
    }


def test_every_variant_is_stocked_in_two_or_three_warehouses_with_priorities():
    catalog_seed(N)

    per_variant = Counter(Stock.objects.values_list("variant_id", flat=True))
    assert len(per_variant) == Variant.objects.count()
    assert set(per_variant.values()) == {2, 3}
    codes = list(Warehouse.objects.values_list("code", "priority"))
    assert 3 <= len(codes) <= 4
    assert {"eu-central", "eu-west", "us-east"} <= {code for code, _ in codes}
    assert len({priority for _, priority in codes}) == len(codes)


def test_variant_prices_are_two_decimal_amounts_between_one_and_five_hundred_mostly_in_euros():
    catalog_seed(100)

    prices = list(Variant.objects.values_list("price", "currency"))
    assert all(p.as_tuple().exponent == -2 and 1 <= p <= 500 for p, _ in prices)
    currencies = Counter(currency for _, currency in prices)
    assert currencies.most_common(1)[0][0] == "EUR"
    assert currencies["EUR"] > 0.7 * len(prices)


def test_category_tree_has_eight_roots_three_levels_and_consistent_paths():
    catalog_seed(N)

    categories = list(Category.objects.select_related("parent"))
    assert len(categories) == len(category_tree())
    roots = [c for c in categories if c.parent is None]
    assert len(roots) == 8
    assert {c.depth for c in categories} == {0, 1, 2}
    for category in categories:
        parent_path = category.parent.path if category.parent else None
        assert category.path == Category.build_path(parent_path, category.slug)
        assert category.depth == (category.parent.depth + 1 if category.parent else 0)
    children = Counter(c.parent_id for c in categories if c.depth == 1)
    assert all(3 <= n <= 5 for n in children.values())
    assert Category.objects.get(slug="running").path == "apparel/shoes/running/"


def test_products_sit_in_leaf_categories_with_tags_attributes_and_searchable_words():
    catalog_seed(100)

    assert not Product.objects.filter(category__children__isnull=False).exists()
    assert 35 <= Tag.objects.count() <= 45
    per_product = Counter(Product.tags.through.objects.values_list("product_id", flat=True))
    assert max(per_product.values()) <= 4
    assert len(per_product) < 100  # some products have no tags
    attributes = Product.objects.values_list("attributes", flat=True)
    assert all({"brand", "material", "color"} <= set(a) for a in attributes)
    for word in ("running", "leather", "wireless"):
        query = SearchQuery(word, config=SEARCH_CONFIG)
        assert Product.objects.filter(search_vector=query).exists(), word


def test_created_at_is_spread_over_the_year_before_an_anchor_fixed_by_the_seed():
    catalog_seed(100, seed=42)

    span = Product.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    anchor = ANCHOR + timedelta(days=42)
    assert anchor - timedelta(days=365) <= span["first"] < span["last"] <= anchor
    assert span["last"] - span["first"] > timedelta(days=200)
    inactive = Product.objects.filter(is_active=False).count()
    assert 0 < inactive < 15


def test_rerunning_with_the_same_seed_leaves_the_database_identical():
    catalog_seed(N, seed=42, batch_size=7)
    checksum = catalog_checksum()
    updated = Product.objects.aggregate(last=Max("updated_at"))["last"]

    result = catalog_seed(N, seed=42, batch_size=100)

    assert catalog_checksum() == checksum
    assert Product.objects.aggregate(last=Max("updated_at"))["last"] == updated
    assert result.created == {"products": 0, "variants": 0, "stocks": 0, "tag_links": 0}


def test_a_larger_run_adds_only_the_missing_products_and_matches_a_fresh_run():
    catalog_seed(2 * N, seed=5)
    fresh = catalog_checksum()
    catalog_delete()

    catalog_seed(N, seed=5)
    first = set(Product.objects.values_list("id", "slug"))
    result = catalog_seed(2 * N, seed=5)

    assert result.created["products"] == N
    assert first < set(Product.objects.values_list("id", "slug"))
    assert catalog_checksum() == fresh


def test_different_seeds_produce_different_catalogs():
    catalog_seed(N, seed=1)
    first = list(Variant.objects.order_by("sku").values_list("name", "price"))
    catalog_delete()
    catalog_seed(N, seed=2)
    second = list(Variant.objects.order_by("sku").values_list("name", "price"))

    assert first != second
    assert not Product.objects.filter(slug__contains="-s1-").exists()


def test_trigger_kept_product_price_equals_the_cheapest_variant_and_stock_sets_in_stock():
    catalog_seed(100)

    stocked = Stock.objects.filter(variant__product=OuterRef("pk"), quantity__gt=0)
    products = Product.objects.annotate(cheapest=Min("variants__price"), stocked=Exists(stocked))
    rows = list(products.values_list("price", "cheapest", "in_stock", "stocked"))
    assert all(price == cheapest for price, cheapest, _, _ in rows)
    assert all(in_stock == stocked for _, _, in_stock, stocked in rows)
    out_of_stock = sum(not in_stock for _, _, in_stock, _ in rows)
    assert 2 <= out_of_stock <= 25


def test_progress_is_reported_after_every_batch_up_to_the_total():
    calls = []

    catalog_seed(25, batch_size=10, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(10, 25), (20, 25), (25, 25)]


def test_command_seeds_and_prints_a_summary_line():
    out = StringIO()

    call_command("seed_catalog", "--products", "12", "--seed", "3", "--batch-size", "5", stdout=out)

    assert Product.objects.count() == 12
    summary = out.getvalue().strip().splitlines()[-1]
    assert summary.startswith("Seeded 12 products (seed 3; 12 new)")
    assert "products/s" in summary
    assert "seed_catalog: 12/12 products (100%)" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--products", "-1"], "--products must be an integer >= 0, got '-1'"),
        (["--products", "abc"], "--products must be an integer >= 0, got 'abc'"),
        (["--products", "5", "--seed", "x"], "--seed must be an integer >= 0"),
        (["--products", "5", "--batch-size", "0"], "--batch-size must be an integer >= 1"),
    ],
)
def test_command_rejects_bad_numbers_with_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_catalog", *args, stdout=StringIO())

    assert not Product.objects.exists()


def test_command_line_reports_bad_input_without_a_traceback():
    manage = Path(__file__).resolve().parents[3] / "manage.py"

    done = subprocess.run(
        [sys.executable, str(manage), "seed_catalog", "--products", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert "CommandError: --products must be an integer >= 0, got 'abc'" in done.stderr
    assert "Traceback" not in done.stderr
