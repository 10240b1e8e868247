"""The product list as a competent team writes it first: the yardstick for ours, never served.

Idiomatic DRF throughout: nested ``ModelSerializer``s, ``select_related``/``prefetch_related`` so
the page costs a fixed number of queries, ``CursorPagination`` and DRF's stock ``JSONRenderer``.
Price and availability are derived in Python from the prefetched variants and stock rows, as they
would be before anyone denormalizes them. Mounted only by ``config.urls_perf``.
"""

from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from apps.catalog.models import LISTED, Category, Product, Variant

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
