from decimal import Decimal

import pytest

from apps.catalog.keyset import PRODUCT_ORDERINGS
from apps.catalog.models import Product
from apps.catalog.selectors import ProductFilters, category_list, product_detail, product_list
from apps.core.keyset import Cursor

NO_FILTERS = ProductFilters()


def slugs(filters=NO_FILTERS, ordering="-created_at", page_size=100):
    results, _ = product_list(filters, ordering, page_size, None)
    return [r["slug"] for r in results]


def walk(ordering, page_size, filters=NO_FILTERS):
    """Follow next cursors to the end, then previous cursors back to the start."""
    forward, pages = [], []
    results, page = product_list(filters, ordering, page_size, None)
    while True:
        pages.append([r["slug"] for r in results])
        forward += pages[-1]
        if page.next is None:
            break
        results, page = product_list(filters, ordering, page_size, page.next)
    backward = []
    while page.previous is not None:
        results, page = product_list(filters, ordering, page_size, page.previous)
        backward = [r["slug"] for r in results] + backward
    return forward, pages, backward


def test_list_shows_only_active_products_with_a_price(catalog):
    listed = slugs()
    assert len(listed) == 15
    assert "retired" not in listed and "no-variants" not in listed


def test_default_ordering_is_newest_first(catalog):
    assert slugs() == [f"item-{i:02d}" for i in range(15)]


@pytest.mark.parametrize("ordering", sorted(PRODUCT_ORDERINGS))
@pytest.mark.parametrize("page_size", [1, 4, 7])
def test_cursor_walk_visits_every_product_once_in_order_both_ways(catalog, ordering, page_size):
    forward, pages, backward = walk(ordering, page_size)
    assert forward == slugs(ordering=ordering)
    assert len(set(forward)) == 15
    assert all(len(p) == page_size for p in pages[:-1])
    # Walking back from the last page ends on the first page, without its last page.
    assert backward == forward[: len(forward) - len(pages[-1])]


def test_price_ordering_breaks_ties_by_id(catalog):
    Product.objects.filter(slug__in=["item-03", "item-04"]).update(
        created_at=catalog.products[0].created_at
    )
    forward, _, _ = walk("price", 1)
    prices = [product_list(ProductFilters(), "price", 100, None)[0][i]["price"] for i in range(15)]
    assert prices == sorted(prices, key=Decimal)
    assert len(forward) == 15


def test_category_filter_includes_descendants(catalog):
    assert len(slugs(ProductFilters(category="apparel"))) == 12
    assert len(slugs(ProductFilters(category="shoes"))) == 9
    assert len(slugs(ProductFilters(category="running"))) == 6
    assert slugs(ProductFilters(category="unknown")) == []


def test_tag_filter(catalog):
    expected = sorted(p.slug for p in catalog.products if p.tags.filter(slug="eco").exists())
    assert expected  # the fixture must exercise the filter
    assert sorted(slugs(ProductFilters(tag="eco"))) == expected
    assert slugs(ProductFilters(tag="nope")) == []


def test_price_range_uses_the_lowest_variant_price(catalog):
    listed = slugs(ProductFilters(min_price=Decimal("12"), max_price=Decimal("14.00")))
    assert sorted(listed) == ["item-02", "item-03", "item-04"]


def test_in_stock_filter(catalog):
    assert sorted(slugs(ProductFilters(in_stock=False))) == ["item-00", "item-05", "item-10"]
    assert len(slugs(ProductFilters(in_stock=True))) == 12


def test_full_text_search_matches_name_and_description_with_stemming(catalog):
    assert len(slugs(ProductFilters(q="runs"))) == 7
    assert len(slugs(ProductFilters(q="lamps"))) == 8
    assert slugs(ProductFilters(q="running -leather")) == []


def test_filters_combine(catalog):
    combined = slugs(ProductFilters(category="running", q="leather", in_stock=True, tag="sale"))
    expected = [
        p.slug
        for p in catalog.products
        if p.category.slug == "running"
        and "leather" in p.name
        and p.tags.filter(slug="sale").exists()
        and p.slug not in {"item-00", "item-05", "item-10"}
    ]
    assert combined == expected


def test_summary_shape_and_money_format(catalog):
    (row,), _ = product_list(ProductFilters(), "-created_at", 1, None)
    assert row == {
        "slug": "item-00",
        "name": catalog.products[0].name,
        "category": {"slug": "apparel", "name": "Apparel"},
        "price": "10.00",
        "currency": "EUR",
        "in_stock": False,
        "tags": [],
    }


def test_detail_sums_available_units_over_warehouses(catalog):
    detail = product_detail("item-04")
    assert [v["available"] for v in detail["variants"]] == [2, 4, 6, 8, 10]
    assert detail["price"] == "14.00"
    assert detail["tags"] == ["sale"]
    assert product_detail("item-07")["tags"] == ["eco", "gift", "new", "sale"]


def test_categories_count_listed_products_of_the_whole_subtree(catalog):
    counts = {c["slug"]: (c["parent"], c["product_count"]) for c in category_list()}
    assert counts == {
        "apparel": (None, 12),
        "shoes": ("apparel", 9),
        "running": ("shoes", 6),
        "books": (None, 3),
    }


def test_category_count_matches_the_filtered_list(catalog):
    for category in category_list():
        assert category["product_count"] == len(slugs(ProductFilters(category=category["slug"])))


def test_a_cursor_continues_the_ordering_it_was_issued_for(catalog):
    _, page = product_list(ProductFilters(), "price", 2, None)

    assert Cursor.decode(page.next.encode(), PRODUCT_ORDERINGS).ordering == "price"


def test_a_cursor_of_another_list_is_rejected(catalog):
    from apps.core.errors import InvalidQuery
    from apps.orders.selectors import ORDER_ORDERINGS

    _, page = product_list(ProductFilters(), "price", 2, None)
    with pytest.raises(InvalidQuery):
        Cursor.decode(page.next.encode(), ORDER_ORDERINGS)
