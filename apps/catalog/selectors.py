"""Catalog reads: each function reads exactly the columns it renders.

Query counts are constant in page size: the product list is one query (``listing.py``: category
joined, tags read from the product row's ``tag_slugs``, kept by triggers) plus one per category or
tag filter to resolve it to ids; detail two, categories two.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404

from apps.catalog import listing
from apps.catalog.models import LISTED, SEARCH_CONFIG, Category, Product, Tag, Variant
from apps.core.keyset import Cursor, Page

SUMMARY_COLUMNS = (
    "id",
    "slug",
    "name",
    "price",
    "currency",
    "in_stock",
    "created_at",
    "category__slug",
    "category__name",
    "tag_slugs",
)


@dataclass(frozen=True)
class ProductFilters:
    category: str | None = None
    tag: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    q: str | None = None
    currency: str | None = None


def _tag_slugs() -> RawSQL:
    # Kept sorted on the product row by triggers (apps/catalog/sql/listing_tags.sql); not a model
    # field, so that no ORM write can ever set it.
    return RawSQL('"catalog_product"."tag_slugs"', ())


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def product_summary(row: dict[str, Any]) -> dict[str, Any]:
    """Shape one ``.values()`` row into the contract's product summary."""
    return {
        "slug": row["slug"],
        "name": row["name"],
        "category": {"slug": row["category__slug"], "name": row["category__name"]},
        "price": _money(row["price"]),
        "currency": row["currency"],
        "in_stock": row["in_stock"],
        "tags": row["tag_slugs"],
    }


# Built once and cloned per request: measured ~310 µs cheaper per list request than rebuilding
# the annotated queryset each time (build + compile 481 -> 168 µs). Never evaluated themselves.
_WITH_TAGS = Product.objects.annotate(tag_slugs=_tag_slugs())
_LISTED_SUMMARIES = _WITH_TAGS.filter(LISTED).values(*SUMMARY_COLUMNS)


def _category_ids(slug: str) -> list[int]:
    """Return the ids of the category ``slug`` and its descendants (empty when unknown)."""
    # Resolved to literal ids first (one small query): with ids the planner estimates from
    # column statistics and picks product_cat_*_idx for one category or an ordered scan for a
    # big subtree (measured 112 ms -> under 1 ms on 100k products).
    root_path = Category.objects.filter(slug=slug).values("path")[:1]
    return list(
        Category.objects.filter(path__startswith=Subquery(root_path)).values_list("id", flat=True)
    )


def _tag_id(slug: str) -> int | None:
    return Tag.objects.filter(slug=slug).values_list("id", flat=True).first()


def product_list_queryset(filters: ProductFilters) -> QuerySet:
    """Listed products matching ``filters``, as ``.values()`` rows of the summary columns.

    The ORM form of ``apps/catalog/listing.py``'s query: what its tests compare it with.
    """
    qs = _LISTED_SUMMARIES.all()
    if filters.category is not None:
        ids = _category_ids(filters.category)
        qs = qs.filter(category_id=ids[0]) if len(ids) == 1 else qs.filter(category_id__in=ids)
    if filters.tag is not None:
        tag_id = _tag_id(filters.tag)
        qs = qs.filter(
            Exists(Product.tags.through.objects.filter(product_id=OuterRef("pk"), tag_id=tag_id))
        )
    if filters.currency is not None:
        qs = qs.filter(currency=filters.currency)
    if filters.min_price is not None:
        qs = qs.filter(price__gte=filters.min_price)
    if filters.max_price is not None:
        qs = qs.filter(price__lte=filters.max_price)
    if filters.in_stock is not None:
        qs = qs.filter(in_stock=filters.in_stock)
    if filters.q:
        qs = qs.filter(
            search_vector=SearchQuery(filters.q, search_type="websearch", config=SEARCH_CONFIG)
        )
    return qs


def product_list_where(filters: ProductFilters) -> listing.Where:
    """Resolve ``filters`` to the ids the page query needs (one query per category or tag)."""
    return listing.Where(
        category_ids=None if filters.category is None else _category_ids(filters.category),
        tag_id=None if filters.tag is None else _tag_id(filters.tag),
        tag_filtered=filters.tag is not None,
        currency=filters.currency,
        min_price=filters.min_price,
        max_price=filters.max_price,
        in_stock=filters.in_stock,
        q=filters.q,
    )


def product_list(
    filters: ProductFilters, ordering: str, page_size: int, cursor: Cursor | None
) -> tuple[list[dict[str, Any]], Page]:
    """Return one page of product summaries and its boundary cursors."""
    where = product_list_where(filters)
    return listing.product_page(where, ordering, page_size, cursor)


def product_detail(slug: str) -> dict[str, Any]:
    """Return an active product with its variants and their sellable units; 404 when unknown."""
    row = (
        _WITH_TAGS.filter(slug=slug, is_active=True)
        .values(*SUMMARY_COLUMNS, "description", "attributes")
        .first()
    )
    if row is None:
        raise Http404("No product with this slug.")
    variants = (
        Variant.objects.filter(product_id=row["id"], is_active=True)
        .annotate(available=Coalesce(Sum("stocks__quantity"), 0))
        .order_by("position", "id")
        .values("sku", "name", "price", "currency", "available")
    )
    return {
        **product_summary(row),
        "description": row["description"],
        "attributes": row["attributes"],
        "variants": [
            {
                "sku": v["sku"],
                "name": v["name"],
                "price": _money(v["price"]),
                "currency": v["currency"],
                "available": v["available"],
            }
            for v in variants
        ],
    }


def category_list() -> list[dict[str, Any]]:
    """Return every category with the listed products in it and all its descendants."""
    direct = dict(
        Product.objects.filter(LISTED)
        .order_by()
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    categories = list(
        Category.objects.order_by("path").values("id", "slug", "name", "path", "parent__slug")
    )
    # Roll counts up the tree: a category's total is the sum over every path it prefixes.
    totals = {c["path"]: direct.get(c["id"], 0) for c in categories}
    for category in categories:
        own = direct.get(category["id"], 0)
        if not own:
            continue
        path = category["path"]
        # Every proper ancestor's path is a prefix of this one ending at a "/".
        for cut in range(len(path) - 1):
            if path[cut] == "/":
                ancestor = path[: cut + 1]
                if ancestor in totals:
                    totals[ancestor] += own
    return [
        {
            "slug": c["slug"],
            "name": c["name"],
            "parent": c["parent__slug"],
            "product_count": totals[c["path"]],
        }
        for c in categories
    ]
