"""Checkout and order endpoints: parse, call one service or selector, render."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.keyset import Cursor, page_body
from apps.core.schemas import errors
from apps.orders import selectors, services
from apps.orders.idempotency import idempotency_key_parse
from apps.orders.serializers import (
    CheckoutInput,
    InsufficientStockSchema,
    OrderListQuery,
    OrderPageSchema,
    OrderSchema,
    PaymentFailedSchema,
)
from apps.orders.throttles import CheckoutThrottle

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="1-64 printable characters; the same key and body replay the first response.",
)


class CheckoutView(APIView):
    throttle_classes = (CheckoutThrottle,)

    @extend_schema(
        operation_id="checkout",
        parameters=[IDEMPOTENCY_HEADER],
        request=CheckoutInput,
        responses={
            201: OrderSchema,
            402: OpenApiResponse(PaymentFailedSchema),
            409: OpenApiResponse(InsufficientStockSchema),
            **errors(400, 404, 422, 429),
        },
        tags=["checkout"],
    )
    def post(self, request):
        key = idempotency_key_parse(request.headers.get("Idempotency-Key"))
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        result = services.order_place(
            request.user,
            key=key,
            lines=None if lines is None else [services.LineRequest(**line) for line in lines],
        )
        return Response(result.body, status=result.status)


class OrderListView(APIView):
    @extend_schema(
        operation_id="orders_list",
        parameters=[OrderListQuery],
        responses={200: OrderPageSchema, **errors(400)},
        tags=["orders"],
    )
    def get(self, request):
        query = OrderListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        cursor = (
            Cursor.decode(params["cursor"], "-created_at", selectors.ORDER_ORDERINGS)
            if params.get("cursor")
            else None
        )
        results, page = selectors.order_list(request.user, params["page_size"], cursor)
        return Response(page_body(request.build_absolute_uri(), page, results))


class OrderDetailView(APIView):
    @extend_schema(
        operation_id="orders_retrieve", responses={200: OrderSchema, **errors(404)}, tags=["orders"]
    )
    def get(self, request, number: str):
        return Response(selectors.order_detail(request.user, number))


class OrderCancelView(APIView):
    @extend_schema(
        operation_id="orders_cancel",
        request=None,
        responses={200: OrderSchema, **errors(404, 409)},
        tags=["orders"],
    )
    def post(self, request, number: str):
        return Response(services.order_cancel(request.user, number=number))
