"""Catalog HTTP endpoints: public, cacheable, rendered from plain dicts with orjson."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors
from apps.catalog.cache import product_list_url
from apps.catalog.keyset import PRODUCT_ORDERINGS
from apps.catalog.serializers import (
    CategorySchema,
    ProductDetailSchema,
    ProductListQuery,
    ProductPageSchema,
)
from apps.core.caching.responses import public_cache_control
from apps.core.keyset import Cursor, page_body
from apps.core.schemas import errors

ERRORS = errors(400, 404)
PRICE_ORDERINGS = frozenset({"price", "-price"})


class CatalogView(APIView):
    """Public read-only endpoint: no auth work, shared-cacheable.

    The URLconf wraps these views in ``cached_response``, which sets the ETag from the cache
    versions; when Redis is away, ``ConditionalGetMiddleware`` derives it from the body.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200:
            response["Cache-Control"] = public_cache_control()
        return response


class CategoryListView(CatalogView):
    @extend_schema(
        operation_id="categories_list", responses={200: CategorySchema(many=True)}, tags=["catalog"]
    )
    def get(self, request):
        return Response(selectors.category_list())


class ProductListView(CatalogView):
    @extend_schema(
        operation_id="products_list",
        parameters=[ProductListQuery],
        responses={200: ProductPageSchema, **ERRORS},
        tags=["catalog"],
    )
    def get(self, request):
        query = ProductListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        ordering = params["ordering"]
        cursor = (
            Cursor.decode(params["cursor"], ordering, PRODUCT_ORDERINGS)
            if params.get("cursor")
            else None
        )
        currency = (params.get("currency") or "").upper() or None
        if currency is None and (
            ordering in PRICE_ORDERINGS
            or params.get("min_price") is not None
            or params.get("max_price") is not None
        ):
            currency = settings.SHOP_CURRENCY  # prices compare like with like, never EUR vs USD
        filters = selectors.ProductFilters(
            # An empty value means "no filter", as a cleared search box sends it.
            category=params.get("category") or None,
            tag=params.get("tag") or None,
            min_price=params.get("min_price"),
            max_price=params.get("max_price"),
            in_stock=params.get("in_stock"),
            q=params.get("q") or None,
            currency=currency,
        )
        results, page = selectors.product_list(filters, ordering, params["page_size"], cursor)
        return Response(page_body(product_list_url(request), page, results))


class ProductDetailView(CatalogView):
    @extend_schema(
        operation_id="products_retrieve",
        responses={200: ProductDetailSchema, **ERRORS},
        tags=["catalog"],
    )
    def get(self, request, slug: str):
        return Response(selectors.product_detail(slug))
