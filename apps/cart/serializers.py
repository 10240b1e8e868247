"""Cart input parsing (serializers never write) and response schemas for the OpenAPI document."""

from django.conf import settings
from rest_framework import serializers

from apps.core.fields import StrictIntegerField


def _quantity() -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=settings.CART_MAX_LINE_QUANTITY)


class CartLineAddInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64, trim_whitespace=False)  # exactly as sent
    quantity = _quantity()


class CartLineUpdateInput(serializers.Serializer):
    quantity = _quantity()


class CartLineSchema(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField()
    line_total = serializers.CharField()


class CartSchema(serializers.Serializer):
    lines = CartLineSchema(many=True)
    total = serializers.CharField()
    currency = serializers.CharField()
