"""Staff-only catalog writes over HTTP: thin views over ``apps.catalog.writes``.

The serializers check shapes and bounds (what one request may carry); the importers' rules check
the values, so the API and the files accept and refuse the same things.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import writes
from apps.catalog.imports import TAG_SEPARATOR
from apps.core.schemas import error

MAX_VARIANTS = 100  # per request: a product with more is written in several
MAX_TAGS = 20
MAX_PRICES = 1000
STAFF_ONLY = {
    401: error(401, "No or a wrong token."),
    403: error(403, 'Not a staff user (code "permission_denied").'),
}
INVALID = error(
    400,
    'A malformed body or a value the importers refuse (code "invalid"): "fields" names each, '
    'a variant\'s as "variants[i].price", a price line\'s as "prices[i].sku" (an unknown SKU). '
    "Nothing is written.",
)


def text(max_length: int, **kwargs) -> serializers.CharField:
    # Lengths and content are the importers' to judge; this bounds what one request can carry.
    return serializers.CharField(max_length=max_length, trim_whitespace=False, **kwargs)


class TagField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if TAG_SEPARATOR in value:
            raise serializers.ValidationError(f'A tag cannot contain "{TAG_SEPARATOR}".')
        return value


class VariantWrite(serializers.Serializer):
    sku = text(200)
    name = text(400)
    price = text(40, help_text='A decimal string, e.g. "19.90".')
    currency = text(10, default="EUR")


class ProductWrite(serializers.Serializer):
    slug = text(400)
    name = text(400)
    category = text(400, help_text="A category slug; created (top level) when new.")
    description = serializers.CharField(
        max_length=100_000, required=False, default="", allow_blank=True, trim_whitespace=False
    )
    tags = serializers.ListField(
        child=TagField(max_length=160), max_length=MAX_TAGS, required=False, default=list
    )
    variants = serializers.ListField(child=VariantWrite(), min_length=1, max_length=MAX_VARIANTS)


class ProductWritten(serializers.Serializer):
    slug = serializers.CharField()
    created = serializers.BooleanField()
    url = serializers.CharField(help_text="The product's public detail.")


class PriceWrite(serializers.Serializer):
    sku = text(200)
    price = text(40, help_text='A decimal string, e.g. "19.90".')


class PricesWrite(serializers.Serializer):
    prices = serializers.ListField(child=PriceWrite(), min_length=1, max_length=MAX_PRICES)


class PricesWritten(serializers.Serializer):
    prices = serializers.IntegerField(help_text="How many SKUs were priced.")


class ProductWriteView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="admin_products_upsert",
        summary="Create or update a product and its variants (staff)",
        description=(
            "Upserts by `slug` (the product) and `sku` (each variant), with the rules of "
            "`import_catalog`: variants not listed are left as they are, a new category or tag "
            f"is created. At most {MAX_VARIANTS} variants and {MAX_TAGS} tags per request. "
            "`201` when the product is new, `200` when it was updated. Catalog reads show the "
            "change as soon as this answers."
        ),
        request=ProductWrite,
        responses={201: ProductWritten, 200: ProductWritten, 400: INVALID, **STAFF_ONLY},
        examples=[
            OpenApiExample(
                "a product with two variants",
                {
                    "slug": "trail-shoe",
                    "name": "Trail shoe",
                    "category": "shoes",
                    "tags": ["outdoor"],
                    "variants": [
                        {"sku": "TRAIL-42", "name": "EU 42", "price": "89.90", "currency": "EUR"},
                        {"sku": "TRAIL-43", "name": "EU 43", "price": "89.90", "currency": "EUR"},
                    ],
                },
                request_only=True,
            )
        ],
        tags=["admin"],
    )
    def post(self, request):
        data = ProductWrite(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        variants = [writes.VariantInput(**v) for v in given.pop("variants")]
        created = writes.product_upsert(**given, variants=variants)
        body = {
            "slug": given["slug"],
            "created": created,
            "url": request.build_absolute_uri(f"/api/v1/products/{given['slug']}/"),
        }
        return Response(body, status=201 if created else 200)


class PricesWriteView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="admin_prices_set",
        summary="Set prices by SKU (staff)",
        description=(
            f"Up to {MAX_PRICES} lines, with the rules of `import_prices`; an unknown SKU or a "
            "bad price refuses the whole request."
        ),
        request=PricesWrite,
        responses={200: PricesWritten, 400: INVALID, **STAFF_ONLY},
        examples=[
            OpenApiExample(
                "two prices",
                {
                    "prices": [
                        {"sku": "TRAIL-42", "price": "79.90"},
                        {"sku": "TRAIL-43", "price": "79.90"},
                    ]
                },
                request_only=True,
            )
        ],
        tags=["admin"],
    )
    def post(self, request):
        data = PricesWrite(data=request.data)
        data.is_valid(raise_exception=True)
        prices = [writes.PriceInput(**p) for p in data.validated_data["prices"]]
        return Response({"prices": writes.prices_set(prices)})
