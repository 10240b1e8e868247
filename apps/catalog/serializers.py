"""Catalog input parsing, and response shapes for the OpenAPI schema.

The response serializers document the payloads; the hot path renders plain dicts (selectors.py)
and never instantiates them.
"""

import re

from django.conf import settings
from rest_framework import serializers

from apps.catalog.keyset import DEFAULT_PRODUCT_ORDERING, PRODUCT_ORDERINGS
from apps.core.fields import PriceQueryField, QueryBooleanField, cursor_field


class ProductListQuery(serializers.Serializer):
    """Query parameters of the product list; unknown parameters are ignored."""

    category = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text="A category's slug: products in it and in every category below it.",
    )
    tag = serializers.SlugField(
        required=False, allow_blank=True, max_length=80, help_text="Products with this tag."
    )
    min_price = PriceQueryField(help_text="Lowest price, inclusive (e.g. `10` or `9.99`).")
    max_price = PriceQueryField(help_text="Highest price, inclusive.")
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        allow_blank=True,
        max_length=3,
        trim_whitespace=False,
        help_text=(
            "ISO 4217 code: list only products priced in this currency. Price filters and "
            f"price orderings compare one currency at a time: without this parameter they use "
            f"the shop's default currency ({settings.SHOP_CURRENCY}); other lists show every "
            "currency."
        ),
    )
    in_stock = QueryBooleanField(
        help_text="`true`: only products with sellable units; `false`: only sold-out ones.",
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=settings.CATALOG_MAX_QUERY_LENGTH,
        help_text='Full-text search in names and descriptions (web-search syntax: "quoted '
        'phrase", or, -excluded).',
    )
    ordering = serializers.ChoiceField(
        required=False,
        choices=sorted(PRODUCT_ORDERINGS),
        default=DEFAULT_PRODUCT_ORDERING,
        help_text="`-created_at` newest first (default), `price`/`-price` cheapest/dearest "
        "first (in one currency), `name` alphabetical.",
    )
    cursor = cursor_field()
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        default=settings.CATALOG_PAGE_SIZE,
        help_text=f"Defaults to {settings.CATALOG_PAGE_SIZE}; values above "
        f"{settings.CATALOG_MAX_PAGE_SIZE} are clamped to {settings.CATALOG_MAX_PAGE_SIZE}.",
    )

    def validate_page_size(self, value: int) -> int:
        return min(value, settings.CATALOG_MAX_PAGE_SIZE)


_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
_FAST_KEYS = frozenset({"ordering", "page_size", "cursor", "in_stock"})
_SLOW_KEYS = frozenset(ProductListQuery._declared_fields) - _FAST_KEYS


def product_list_query_fast(params: dict[str, str]) -> dict | None:
    """``ProductListQuery``'s validated data for the common, plainly valid queries, else None.

    A browsing client sends at most an ordering, a page size, a cursor and ``in_stock``; DRF
    builds and deep-copies ten fields to read them (a fifth of an uncached list's time). Anything
    else, or anything doubtful, is left to the serializer (apps/catalog/tests/test_serializers.py
    checks that both agree wherever this answers).
    """
    if not _SLOW_KEYS.isdisjoint(params):
        return None
    data = {
        "ordering": params.get("ordering", DEFAULT_PRODUCT_ORDERING),
        "page_size": settings.CATALOG_PAGE_SIZE,
    }
    if data["ordering"] not in PRODUCT_ORDERINGS:
        return None
    if "page_size" in params:
        size = params["page_size"]
        if not (size.isascii() and size.isdigit() and 0 < len(size) <= 6 and int(size) > 0):
            return None
        data["page_size"] = min(int(size), settings.CATALOG_MAX_PAGE_SIZE)
    if "cursor" in params:
        cursor = params["cursor"]
        if not _CURSOR.fullmatch(cursor) or len(cursor) > 512:
            return None
        data["cursor"] = cursor
    if "in_stock" in params:
        flag = params["in_stock"]
        if flag not in ("true", "false"):
            return None
        data["in_stock"] = flag == "true"
    return data


class CategoryRefSchema(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class CategorySchema(CategoryRefSchema):
    parent = serializers.SlugField(allow_null=True)
    product_count = serializers.IntegerField()


class ProductSummarySchema(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    category = CategoryRefSchema()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    in_stock = serializers.BooleanField()
    tags = serializers.ListField(child=serializers.SlugField())


class ProductPageSchema(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProductSummarySchema(many=True)


class VariantSchema(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    available = serializers.IntegerField(help_text="Sellable units over all warehouses.")


class ProductDetailSchema(ProductSummarySchema):
    description = serializers.CharField()
    attributes = serializers.DictField()
    variants = VariantSchema(many=True)
