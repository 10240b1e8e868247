"""Catalog HTTP endpoints: public, cacheable, rendered from plain dicts with orjson."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors
from apps.catalog.cache import product_list_url
from apps.catalog.keyset import PRICE_ORDERINGS, PRODUCT_ORDERINGS
from apps.catalog.serializers import (
    CategorySchema,
    ProductDetailSchema,
    ProductListQuery,
    ProductPageSchema,
    product_list_query_fast,
)
from apps.core.caching.responses import public_cache_control
from apps.core.keyset import Cursor, page_body
from apps.core.schemas import error

INVALID_QUERY = error(
    400,
    'A malformed filter, ordering, cursor or page size (code "invalid", with "fields"). '
    "Unknown parameters are ignored.",
    {
        "code": "invalid",
        "detail": "Enter a valid value.",
        "fields": {"min_price": ["This value does not match the required pattern."]},
    },
)
NOT_ACCEPTABLE = error(406)
SUMMARY_EXAMPLE = {
    "slug": "trail-runner-2",
    "name": "Trail Runner 2",
    "category": {"slug": "running", "name": "Running"},
    "price": "89.90",
    "currency": "EUR",
    "in_stock": True,
    "tags": ["eco", "new"],
}


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
        operation_id="categories_list",
        summary="List every category",
        description="The whole tree, flat: each category names its `parent` (null at the top) "
        "and counts the active products in it and below it.",
        responses={200: CategorySchema(many=True), 406: NOT_ACCEPTABLE},
        examples=[
            OpenApiExample(
                "tree",
                [
                    {"slug": "apparel", "name": "Apparel", "parent": None, "product_count": 412},
                    {
                        "slug": "running",
                        "name": "Running",
                        "parent": "apparel",
                        "product_count": 57,
                    },
                ],
                response_only=True,
            )
        ],
        tags=["catalog"],
    )
    def get(self, request):
        return Response(selectors.category_list())


class ProductListView(CatalogView):
    @extend_schema(
        operation_id="products_list",
        summary="List and search products",
        description=(
            "Active products with a price, filtered by any combination of the parameters and "
            "ordered by `ordering`. An unknown category or tag gives an empty list."
        ),
        parameters=[ProductListQuery],
        responses={200: ProductPageSchema, 400: INVALID_QUERY, 406: NOT_ACCEPTABLE},
        examples=[
            OpenApiExample(
                "page",
                {
                    "next": "https://shop.example/api/v1/products/?cursor=WyJwcmljZSIsMSwiODkuOTAiLDQyXQ&ordering=price",
                    "previous": None,
                    "results": [SUMMARY_EXAMPLE],
                },
                response_only=True,
            )
        ],
        tags=["catalog"],
    )
    def get(self, request):
        given = request.query_params.dict()
        params = product_list_query_fast(given)
        if params is None:  # the serializer judges the rest, and words the error
            query = ProductListQuery(data=given)
            query.is_valid(raise_exception=True)
            params = query.validated_data
        cursor = (
            Cursor.decode(params["cursor"], PRODUCT_ORDERINGS) if params.get("cursor") else None
        )
        ordering = cursor.ordering if cursor else params["ordering"]
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
        summary="Show a product",
        parameters=[
            OpenApiParameter(
                "slug",
                str,
                OpenApiParameter.PATH,
                pattern=r"^[-a-zA-Z0-9_]+$",
                description="The product's `slug`, from a list.",
            )
        ],
        description="A product's summary plus its description, attributes and variants, each "
        "with `available`: sellable units over all warehouses at this moment.",
        responses={
            200: ProductDetailSchema,
            404: error(404, 'No active product with this slug (code "not_found").'),
            406: NOT_ACCEPTABLE,
        },
        examples=[
            OpenApiExample(
                "product",
                {
                    **SUMMARY_EXAMPLE,
                    "description": "A light trail shoe with a rock plate.",
                    "attributes": {"material": "mesh", "drop_mm": 6},
                    "variants": [
                        {
                            "sku": "TR2-42",
                            "name": "EU 42",
                            "price": "89.90",
                            "currency": "EUR",
                            "available": 7,
                        }
                    ],
                },
                response_only=True,
            )
        ],
        tags=["catalog"],
    )
    def get(self, request, slug: str):
        return Response(selectors.product_detail(slug))
