"""The hand-written page query gives exactly the pages of the ORM queryset it replaced."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog import selectors
from apps.catalog.keyset import PRODUCT_ORDERINGS
from apps.catalog.models import Product
from apps.catalog.selectors import ProductFilters
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from apps.core.keyset import keyset_page

pytestmark = pytest.mark.django_db

FILTERS = [
    ProductFilters(),
    ProductFilters(currency="EUR"),
    ProductFilters(category="shoes"),
    ProductFilters(category="books"),
    ProductFilters(category="nowhere"),
    ProductFilters(tag="sale"),
    ProductFilters(tag="unknown"),
    ProductFilters(min_price=Decimal("12"), max_price=Decimal("20.50")),
    ProductFilters(in_stock=True),
    ProductFilters(in_stock=False, category="apparel"),
    ProductFilters(q="running shoe"),
    ProductFilters(category="running", tag="new", in_stock=True, q="leather"),
]


@pytest.fixture
def ties(catalog):
    """The 15 products plus rows that tie on every sort column, and one priced in USD."""
    first = catalog.products[3]
    for i in range(4):
        product = ProductFactory(
            slug=f"twin-{i}",
            name=first.name,
            category=catalog.categories["shoes"],
            tags=[catalog.tags["sale"]] if i % 2 else [],
        )
        Product.objects.filter(pk=product.pk).update(created_at=first.created_at)
        VariantFactory(product=product, price=Decimal("13.00"))
    dollar = ProductFactory(slug="dollar", category=catalog.categories["books"])
    Product.objects.filter(pk=dollar.pk).update(created_at=first.created_at + timedelta(hours=1))
    VariantFactory(product=dollar, price=Decimal("13.00"), currency="USD")
    return catalog


def _currency(filters: ProductFilters, ordering: str) -> ProductFilters:
    # As the view does: the price orderings compare one currency.
    if ordering in ("price", "-price") and filters.currency is None:
        return ProductFilters(**{**filters.__dict__, "currency": "EUR"})
    return filters


def _reference(filters, ordering, page_size, cursor):
    queryset = selectors.product_list_queryset(filters)
    page = keyset_page(queryset, PRODUCT_ORDERINGS, ordering, page_size, cursor)
    return [selectors.product_summary(row) for row in page.rows], page


def _walk(list_page, filters, ordering, page_size=4):
    """Every page forward from the first, then back from the last: (summaries, next, previous)."""
    pages, cursor = [], None
    while True:
        results, page = list_page(filters, ordering, page_size, cursor)
        pages.append((results, page.next, page.previous))
        if page.next is None:
            break
        cursor = page.next
    cursor = pages[-1][2]
    while cursor is not None:
        results, page = list_page(filters, ordering, page_size, cursor)
        pages.append((results, page.next, page.previous))
        cursor = page.previous
    return pages


@pytest.mark.parametrize("ordering", sorted(PRODUCT_ORDERINGS))
@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_every_page_forward_and_back_matches_the_orm(ties, filters, ordering):
    filters = _currency(filters, ordering)

    ours = _walk(selectors.product_list, filters, ordering)

    assert ours == _walk(_reference, filters, ordering)


@pytest.mark.parametrize("ordering", sorted(PRODUCT_ORDERINGS))
def test_unfiltered_pages_forward_run_the_static_queries_and_backward_the_assembled_one(
    ties, ordering
):
    filters = _currency(ProductFilters(), ordering)
    with CaptureQueriesContext(connection) as first:
        _, page = selectors.product_list(filters, ordering, 4, None)
    with CaptureQueriesContext(connection) as second:
        _, later = selectors.product_list(filters, ordering, 4, page.next)
    with CaptureQueriesContext(connection) as back:
        selectors.product_list(filters, ordering, 4, later.previous)

    assert ["FROM catalog_product_page(" in q["sql"] for q in (*first, *second)] == [True] * 2
    assert [q["sql"][:12] for q in back] == ["SELECT p.id,"]


def test_a_filtered_page_is_one_assembled_query_after_resolving_its_category(ties):
    with CaptureQueriesContext(connection) as queries:
        selectors.product_list(ProductFilters(category="shoes"), "-created_at", 4, None)

    assert len(queries) == 2 and queries[1]["sql"].startswith("SELECT p.id,")
