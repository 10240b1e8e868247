"""Checkout and order endpoints: parse, call one service or selector, render."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.keyset import Cursor, page_body
from apps.core.schemas import error
from apps.orders import selectors, services
from apps.orders.idempotency import idempotency_key_parse
from apps.orders.serializers import (
    CheckoutInput,
    InsufficientStockSchema,
    OrderListQuery,
    OrderPageSchema,
    OrderSchema,
    PaymentFailedSchema,
    checkout_lines_fast,
)
from apps.orders.throttles import CheckoutThrottle

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    # Printable ASCII; no space at either end (HTTP trims header values).
    pattern=r"^[!-~]([ -~]{0,62}[!-~])?$",
    description=(
        "1-64 printable ASCII characters, unique per purchase (a UUID is fine). The same key "
        "and body again replay the first answer, and stock is taken once; while the first "
        "request is still running, the second waits for its answer. Keys are per user."
    ),
    examples=[OpenApiExample("uuid", "5f0c2a0e-7b1d-4c59-9a57-0c4e2f7f1a11")],
)
ORDER_EXAMPLE = {
    "number": "SF-2026-000042",
    "status": "paid",
    "lines": [
        {"sku": "S42-0000031-5", "quantity": 2, "unit_price": "19.99", "line_total": "39.98"}
    ],
    "total": "39.98",
    "currency": "EUR",
    "created_at": "2026-12-04T09:30:00Z",
    "expires_at": None,
}
NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The order's `number`, as checkout gave it."
)
NOT_YOURS = error(404, 'No such order among yours (code "not_found").')


class CheckoutView(APIView):
    throttle_classes = (CheckoutThrottle,)

    @extend_schema(
        operation_id="checkout",
        summary="Place an order",
        description=(
            "Buys `lines` directly, or the cart when the body has no `lines` (the cart is then "
            "emptied of what was bought). All lines or nothing: stock is taken for every line "
            "in one transaction, and the payment is taken after it. Limited per user "
            "(`THROTTLE_CHECKOUT`, 30/min by default).\n\n"
            "With a payment provider that answers later (`PAYMENT_PROVIDER=deferred`) the answer "
            "is `202` with `status: pending_payment` and `expires_at`: the units are held until "
            "then. The provider's webhook settles it (`paid`, or `payment_failed` with the units "
            "returned); with no outcome by `expires_at` it becomes `expired` within a minute "
            "and its units come back."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=CheckoutInput,
        responses={
            201: OpenApiResponse(
                OrderSchema, description="Paid (a provider that answers at once)."
            ),
            202: OpenApiResponse(
                OrderSchema,
                description="Waiting for the payment's outcome (`status: pending_payment`), its "
                "units held until `expires_at`.",
            ),
            402: OpenApiResponse(
                PaymentFailedSchema,
                description='The payment was declined (code "payment_failed"); the order is '
                "kept as payment_failed and took no stock.",
            ),
            409: OpenApiResponse(
                InsufficientStockSchema,
                description='Not enough stock for some line (code "insufficient_stock", with '
                '"items"); nothing was taken. Or the same key is still in flight after the '
                'wait (code "idempotency_key_in_flight").',
                examples=[
                    OpenApiExample(
                        "insufficient_stock",
                        {
                            "code": "insufficient_stock",
                            "detail": "Not enough stock for 1 line.",
                            "items": [{"sku": "S42-0000031-5", "requested": 3, "available": 1}],
                        },
                        status_codes=["409"],
                    )
                ],
            ),
            400: error(
                400,
                'Invalid input (code "invalid", with "fields"); a missing or malformed '
                'Idempotency-Key (code "idempotency_key_required"); nothing to buy (code '
                '"empty_cart"); a line over its limit (code "quantity_limit", at most '
                f"{settings.CART_MAX_LINE_QUANTITY} units), or lines in two currencies (code "
                '"currency_mismatch").',
            ),
            404: error(404, 'A SKU that is not for sale (code "unknown_sku").'),
            422: error(
                422,
                "This Idempotency-Key was already used with another body "
                '(code "idempotency_key_reused").',
                {
                    "code": "idempotency_key_reused",
                    "detail": "This Idempotency-Key was already used with a different request "
                    "body.",
                },
            ),
        },
        examples=[
            OpenApiExample(
                "lines",
                {"lines": [{"sku": "S42-0000031-5", "quantity": 2}]},
                request_only=True,
            ),
            OpenApiExample("the cart", {}, request_only=True),
            OpenApiExample("order", ORDER_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
        tags=["checkout"],
    )
    def post(self, request):
        key = idempotency_key_parse(request.headers.get("Idempotency-Key"))
        plain, lines = checkout_lines_fast(request.data)
        if not plain:  # the serializer judges the rest, and words the error
            data = CheckoutInput(data=request.data)
            data.is_valid(raise_exception=True)
            given = data.validated_data.get("lines")
            lines = None if given is None else [(ln["sku"], ln["quantity"]) for ln in given]
        result = services.order_place(
            request.user,
            key=key,
            lines=None if lines is None else [services.LineRequest(*line) for line in lines],
        )
        return Response(result.body, status=result.status)


class OrderListView(APIView):
    @extend_schema(
        operation_id="orders_list",
        summary="List your orders",
        description="Your orders, newest first; follow `next` for older ones.",
        parameters=[OrderListQuery],
        responses={
            200: OrderPageSchema,
            400: error(400, 'A malformed `page_size` or `cursor` (code "invalid").'),
        },
        examples=[
            OpenApiExample(
                "page",
                {
                    "next": "https://shop.example/api/v1/orders/?cursor=WyItY3JlYXRlZF9hdCIsMV0",
                    "previous": None,
                    "results": [ORDER_EXAMPLE],
                },
                response_only=True,
            )
        ],
        tags=["orders"],
    )
    def get(self, request):
        query = OrderListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        cursor = (
            Cursor.decode(params["cursor"], selectors.ORDER_ORDERINGS)
            if params.get("cursor")
            else None
        )
        results, page = selectors.order_list(request.user, params["page_size"], cursor)
        return Response(page_body(request.build_absolute_uri(), page, results))


class OrderDetailView(APIView):
    @extend_schema(
        operation_id="orders_retrieve",
        summary="Show one of your orders",
        parameters=[NUMBER],
        responses={200: OrderSchema, 404: NOT_YOURS},
        examples=[OpenApiExample("order", ORDER_EXAMPLE, response_only=True)],
        tags=["orders"],
    )
    def get(self, request, number: str):
        return Response(selectors.order_detail(request.user, number))


class OrderCancelView(APIView):
    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel one of your orders",
        description=(
            "Cancels a paid order, or one still waiting for its payment (which is then voided); "
            "its stock comes back exactly once."
        ),
        parameters=[NUMBER],
        request=None,
        responses={
            200: OrderSchema,
            404: NOT_YOURS,
            409: error(
                409,
                "The order cannot be cancelled in its status, e.g. a second time "
                '(code "invalid_transition").',
                {"code": "invalid_transition", "detail": "The order cannot change to that status."},
            ),
        },
        examples=[
            OpenApiExample(
                "cancelled", {**ORDER_EXAMPLE, "status": "cancelled"}, response_only=True
            )
        ],
        tags=["orders"],
    )
    def post(self, request, number: str):
        return Response(services.order_cancel(request.user, number=number))
