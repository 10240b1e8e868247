"""Cart endpoints: parse, call one service, render the cart."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cart import selectors, services
from apps.cart.serializers import CartLineAddInput, CartLineUpdateInput, CartSchema
from apps.core.schemas import errors


class CartView(APIView):
    @extend_schema(operation_id="cart_retrieve", responses={200: CartSchema}, tags=["cart"])
    def get(self, request):
        return Response(selectors.cart_detail(request.user))


class CartLinesView(APIView):
    @extend_schema(
        operation_id="cart_lines_create",
        request=CartLineAddInput,
        responses={201: CartSchema, **errors(400, 404)},
        tags=["cart"],
    )
    def post(self, request):
        data = CartLineAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_add(request.user, **data.validated_data)
        return Response(selectors.cart_detail(request.user), status=status.HTTP_201_CREATED)


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH, description="A cart line's id.")


class CartLineView(APIView):
    @extend_schema(
        operation_id="cart_lines_update",
        parameters=[LINE_ID],
        request=CartLineUpdateInput,
        responses={200: CartSchema, **errors(400, 404)},
        tags=["cart"],
    )
    def patch(self, request, line_id: int):
        data = CartLineUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_update(request.user, line_id=line_id, **data.validated_data)
        return Response(selectors.cart_detail(request.user))

    @extend_schema(
        operation_id="cart_lines_destroy",
        parameters=[LINE_ID],
        responses={204: None, **errors(404)},
        tags=["cart"],
    )
    def delete(self, request, line_id: int):
        services.cart_line_remove(request.user, line_id=line_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
