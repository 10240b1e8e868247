"""Checkout and order input parsing (never writes) and documentation-only response schemas."""

from django.conf import settings
from rest_framework import serializers

from apps.core.fields import StrictIntegerField, cursor_field
from apps.orders.models import Order


class CheckoutLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64, trim_whitespace=False)  # exactly as sent
    quantity = StrictIntegerField(min_value=1, max_value=settings.CART_MAX_LINE_QUANTITY)


class CheckoutInput(serializers.Serializer):
    """``lines`` buys those lines directly; no ``lines`` buys the cart."""

    lines = CheckoutLineInput(
        many=True, required=False, allow_empty=False, max_length=settings.CART_MAX_LINES
    )

    def validate_lines(self, lines):
        skus = [line["sku"] for line in lines]
        if len(set(skus)) != len(skus):
            raise serializers.ValidationError("Each SKU may appear in one line only.")
        return lines


def checkout_lines_fast(data: object) -> tuple[bool, list[tuple[str, int]] | None]:
    """Read the lines of a plainly valid checkout body without DRF's field machinery.

    Returns ``(True, lines)`` (``None``: buy the cart) for a body ``CheckoutInput`` accepts as
    it is, and ``(False, None)`` for anything else, which the serializer then judges (and words
    the error). DRF builds and deep-copies a field tree per request: a third of a checkout's
    Python time under load. Every body accepted here is accepted by the serializer with the same
    lines (apps/orders/tests/test_serializers.py).
    """
    if type(data) is not dict:
        return False, None
    if "lines" not in data:
        return True, None
    raw = data["lines"]
    if type(raw) is not list or not 0 < len(raw) <= settings.CART_MAX_LINES:
        return False, None
    lines = []
    for line in raw:
        if type(line) is not dict:
            return False, None
        sku, quantity = line.get("sku"), line.get("quantity")
        if (
            type(sku) is not str
            or not 0 < len(sku) <= 64
            or not (sku.isascii() and sku.isprintable())
        ):
            return False, None
        if type(quantity) is not int or not 1 <= quantity <= settings.CART_MAX_LINE_QUANTITY:
            return False, None
        lines.append((sku, quantity))
    if len({sku for sku, _ in lines}) != len(lines):
        return False, None
    return True, lines


class OrderListQuery(serializers.Serializer):
    cursor = cursor_field()  # blank: the first page, as in the catalog
    # The contract's default for every list (24), shared with the catalog.
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        default=settings.CATALOG_PAGE_SIZE,
        help_text=f"Defaults to {settings.CATALOG_PAGE_SIZE}; values above "
        f"{settings.CATALOG_MAX_PAGE_SIZE} are clamped to {settings.CATALOG_MAX_PAGE_SIZE}.",
    )

    def validate_page_size(self, value: int) -> int:
        return min(value, settings.CATALOG_MAX_PAGE_SIZE)  # clamped, as the catalog does


class OrderLineSchema(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField()
    line_total = serializers.CharField()


class OrderSchema(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.values)
    lines = OrderLineSchema(many=True)
    total = serializers.CharField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Until when a pending payment holds the order's units; null otherwise.",
    )


class OrderPageSchema(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OrderSchema(many=True)


class InsufficientStockItemSchema(serializers.Serializer):
    sku = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class InsufficientStockSchema(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    items = InsufficientStockItemSchema(many=True)


class PaymentFailedSchema(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    order = OrderSchema()
