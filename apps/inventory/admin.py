"""Admin for warehouses and stock levels."""

from django.contrib import admin

from apps.inventory.models import Stock, Warehouse


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
