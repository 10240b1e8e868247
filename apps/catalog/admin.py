"""Admin for the catalog; denormalized listing columns are read-only (triggers maintain them)."""

from django.contrib import admin

from apps.catalog.models import Category, Product, Tag, Variant


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "path", "depth")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "name", "price", "currency", "is_active", "position")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category", "price", "currency", "in_stock", "is_active")
    list_filter = ("is_active", "in_stock")
    list_select_related = ("category",)
    search_fields = ("name", "slug")
    autocomplete_fields = ("category", "tags")
    readonly_fields = ("price", "currency", "in_stock", "created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (VariantInline,)
    show_full_result_count = False


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "product", "price", "currency", "is_active")
    list_select_related = ("product",)
    search_fields = ("sku", "name", "product__slug")
    autocomplete_fields = ("product",)
    show_full_result_count = False
