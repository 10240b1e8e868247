"""Read-mostly admin for carts (support staff looking at what a customer sees)."""

from django.contrib import admin

from apps.cart.models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    model = CartLine
    raw_id_fields = ("variant",)
    extra = 0


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("user", "updated_at")
    raw_id_fields = ("user",)
    inlines = (CartLineInline,)
    search_fields = ("user__username",)
