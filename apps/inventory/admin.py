"""Admin for warehouses and stock levels."""

from django.contrib import admin

from apps.inventory.models import Stock, StockMovement, Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "priority")
    search_fields = ("code", "name")


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ("variant", "warehouse", "quantity")
    list_select_related = ("variant", "warehouse")
    list_filter = ("warehouse",)
    search_fields = ("variant__sku",)
    autocomplete_fields = ("variant",)
    show_full_result_count = False


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The ledger is append-only: readable here, written only by the services."""

    list_display = ("stock", "delta", "reason", "order_id", "created_at")
    list_filter = ("reason",)
    list_select_related = ("stock",)
    search_fields = ("=order_id",)
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
