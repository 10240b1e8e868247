"""Cart endpoints: parse, call one service, render the cart."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cart import selectors, services
from apps.cart.serializers import CartLineAddInput, CartLineUpdateInput, CartSchema
from apps.core.schemas import error

CART_EXAMPLE = OpenApiExample(
    "cart",
    {
        "lines": [
            {
                "id": 41,
                "sku": "S42-0000031-5",
                "quantity": 2,
                "unit_price": "19.99",
                "line_total": "39.98",
            }
        ],
        "total": "39.98",
        "currency": "EUR",
    },
    response_only=True,
)
LIMITS = (
    f"at most {settings.CART_MAX_LINE_QUANTITY} units per line and "
    f"{settings.CART_MAX_LINES} lines per cart"
)
LIMIT_ERROR = error(
    400,
    'Invalid input (code "invalid", with "fields"), or a line or cart over its limit '
    f'(code "quantity_limit" or "cart_full", with "limit"): {LIMITS}.',
    {"code": "quantity_limit", "detail": "At most 100 units per line.", "limit": 100},
)
UNKNOWN_SKU = error(404, 'No sellable variant with that SKU (code "unknown_sku").')
LINE_ID = OpenApiParameter(
    "line_id", int, OpenApiParameter.PATH, description="A line's `id`, from the cart."
)
OTHER_LINE = error(404, 'No such line in your cart (code "not_found"); another user\'s included.')


class CartView(APIView):
    @extend_schema(
        operation_id="cart_retrieve",
        summary="Show the cart",
        description="The signed-in user's open cart, with current prices; empty if none yet.",
        responses={200: CartSchema},
        examples=[CART_EXAMPLE],
        tags=["cart"],
    )
    def get(self, request):
        return Response(selectors.cart_detail(request.user))


class CartLinesView(APIView):
    @extend_schema(
        operation_id="cart_lines_create",
        summary="Add a SKU to the cart",
        description=(
            f"Adds `quantity` units of `sku`; the same SKU again adds to its line ({LIMITS}). "
            "Stock is not reserved: checkout decides."
        ),
        request=CartLineAddInput,
        parameters=[
            OpenApiParameter(
                "Location",
                str,
                OpenApiParameter.HEADER,
                description="The line's URL, e.g. `/api/v1/cart/lines/41/`.",
                response=[201],
            )
        ],
        responses={
            201: OpenApiResponse(
                CartSchema, description="The whole cart; `Location` names the line of the SKU."
            ),
            400: LIMIT_ERROR,
            404: UNKNOWN_SKU,
        },
        examples=[
            OpenApiExample("add", {"sku": "S42-0000031-5", "quantity": 2}, request_only=True),
            CART_EXAMPLE,
        ],
        tags=["cart"],
    )
    def post(self, request):
        data = CartLineAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.cart_line_add(request.user, **data.validated_data)
        return Response(
            added.cart,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("cart-line", kwargs={"line_id": added.line_id})},
        )


class CartLineView(APIView):
    @extend_schema(
        operation_id="cart_lines_update",
        summary="Set a line's quantity",
        description=f"Replaces the line's quantity (1 to {settings.CART_MAX_LINE_QUANTITY}).",
        parameters=[LINE_ID],
        request=CartLineUpdateInput,
        responses={200: CartSchema, 400: LIMIT_ERROR, 404: OTHER_LINE},
        examples=[OpenApiExample("quantity", {"quantity": 3}, request_only=True), CART_EXAMPLE],
        tags=["cart"],
    )
    def patch(self, request, line_id: int):
        data = CartLineUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_update(request.user, line_id=line_id, **data.validated_data)
        return Response(selectors.cart_detail(request.user))

    @extend_schema(
        operation_id="cart_lines_destroy",
        summary="Remove a line",
        parameters=[LINE_ID],
        responses={204: None, 404: OTHER_LINE},
        tags=["cart"],
    )
    def delete(self, request, line_id: int):
        services.cart_line_remove(request.user, line_id=line_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
