"""The catalog as a competent team writes it first: the yardstick for ours, never served.

Idiomatic DRF throughout: nested ``ModelSerializer``s, ``select_related``/``prefetch_related`` so
the page costs a fixed number of queries, ``CursorPagination`` and DRF's stock ``JSONRenderer``.
Price and availability are derived in Python from the prefetched variants and stock rows, as they
would be before anyone denormalizes them. The viewset is mounted only by ``perf.urls``; the
benchmarks call the serializer and the ``naive_*`` readers directly.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from apps.catalog.models import LISTED, Category, Product, Tag, Variant

PAGE_SIZE = 24


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    price = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    in_stock = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["slug", "name", "category", "price", "currency", "in_stock", "tags"]

    @staticmethod
    def _cheapest_variant(product: Product) -> Variant | None:
        # Same tie-break as the listing trigger (price, then id) so both endpoints agree.
        active = [v for v in product.variants.all() if v.is_active]
        return min(active, key=lambda v: (v.price, v.id), default=None)

    def get_price(self, product: Product) -> str | None:
        cheapest = self._cheapest_variant(product)
        return None if cheapest is None else str(cheapest.price)

    def get_currency(self, product: Product) -> str:
        cheapest = self._cheapest_variant(product)
        return "" if cheapest is None else cheapest.currency

    def get_in_stock(self, product: Product) -> bool:
        return any(
            stock.quantity > 0
            for variant in product.variants.all()
            if variant.is_active
            for stock in variant.stocks.all()
        )


class ProductCursorPagination(CursorPagination):
    page_size = PAGE_SIZE
    ordering = "-created_at"


class BaselineProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Serve the public product list and detail, with DRF defaults where the project has its own."""

    # The model's own "listed" predicate keeps the two endpoints on the same rows; it is also the
    # cheapest filter available, which only favours the baseline.
    queryset = (
        Product.objects.filter(LISTED)
        .select_related("category")
        .prefetch_related("tags", "variants__stocks")
    )
    serializer_class = ProductSerializer
    pagination_class = ProductCursorPagination
    renderer_classes = [JSONRenderer]
    permission_classes = [AllowAny]
    lookup_field = "slug"


class ProductSummarySerializer(serializers.ModelSerializer):
    """Serialize the list summary's fields from the denormalized columns, as ours renders them."""

    category = CategorySerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")

    class Meta:
        model = Product
        fields = ["slug", "name", "category", "price", "currency", "in_stock", "tags"]


def summary_instances(page_size: int) -> QuerySet:
    """The newest listed products with what ``ProductSummarySerializer`` reads, fetched up front."""
    return (
        Product.objects.filter(LISTED)
        .select_related("category")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("slug")))
        .order_by("-created_at", "-id")[:page_size]
    )


def naive_summary(product: Product) -> dict[str, Any]:
    """Walk one product of the viewset's queryset attribute by attribute into a summary."""
    cheapest = ProductSerializer._cheapest_variant(product)
    return {
        "slug": product.slug,
        "name": product.name,
        "category": {"slug": product.category.slug, "name": product.category.name},
        "price": None if cheapest is None else f"{cheapest.price:.2f}",
        "currency": "" if cheapest is None else cheapest.currency,
        "in_stock": any(
            stock.quantity > 0
            for variant in product.variants.all()
            if variant.is_active
            for stock in variant.stocks.all()
        ),
        "tags": sorted(tag.slug for tag in product.tags.all()),
    }


def naive_product_list(page_size: int) -> list[dict[str, Any]]:
    """Return the newest ``page_size`` summaries from the baseline viewset's queryset."""
    products = BaselineProductViewSet.queryset.order_by("-created_at", "-id")[:page_size]
    return [naive_summary(product) for product in products]


def naive_product_detail(slug: str) -> dict[str, Any]:
    """Return a product's detail from one prefetched instance, summing stock in Python."""
    product = (
        Product.objects.select_related("category")
        .prefetch_related("tags", "variants__stocks")
        .get(slug=slug, is_active=True)
    )
    variants = sorted(
        (v for v in product.variants.all() if v.is_active), key=lambda v: (v.position, v.id)
    )
    return {
        **naive_summary(product),
        "description": product.description,
        "attributes": product.attributes,
        "variants": [
            {
                "sku": v.sku,
                "name": v.name,
                "price": f"{v.price:.2f}",
                "currency": v.currency,
                "available": sum(stock.quantity for stock in v.stocks.all()),
            }
            for v in variants
        ],
    }


def naive_category_list() -> list[dict[str, Any]]:
    """Return every category with a count query per category over its subtree (1 + N queries)."""
    return [
        {
            "slug": category.slug,
            "name": category.name,
            "parent": category.parent.slug if category.parent else None,
            "product_count": Product.objects.filter(
                LISTED, category__path__startswith=category.path
            ).count(),
        }
        for category in Category.objects.select_related("parent").order_by("path")
    ]
