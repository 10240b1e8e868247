"""Admin for orders: read the frozen lines, move paid orders to fulfilled through the service."""

from django.contrib import admin, messages

from apps.core.errors import DomainError
from apps.orders.models import IdempotencyKey, Order, OrderLine
from apps.orders.services import order_fulfil


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("sku", "name", "quantity", "unit_price", "line_total")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "user", "status", "total", "currency", "created_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    search_fields = ("number", "user__username")
    # Status changes go through the services (row lock, stock return), never a free edit.
    readonly_fields = (
        "number",
        "user",
        "status",
        "currency",
        "total",
        "payment_reference",
        "created_at",
        "updated_at",
    )
    inlines = (OrderLineInline,)
    actions = ("mark_fulfilled",)
    show_full_result_count = False

    @admin.action(description="Mark selected paid orders as fulfilled")
    def mark_fulfilled(self, request, queryset):
        for number in queryset.values_list("number", flat=True):
            try:
                order_fulfil(number)
            except DomainError as error:
                self.message_user(request, f"{number}: {error.detail}", messages.WARNING)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("user", "key", "response_status", "created_at")
    raw_id_fields = ("user", "order")
    search_fields = ("key", "user__username")
