from django.urls import path

from apps.catalog.cache import categories_spec, product_detail_spec, product_list_spec
from apps.catalog.staff_api import PricesWriteView, ProductWriteView
from apps.catalog.views import CategoryListView, ProductDetailView, ProductListView
from apps.core.caching.responses import cached_response

urlpatterns = [
    path(
        "categories/",
        cached_response(categories_spec)(CategoryListView.as_view()),
        name="category-list",
    ),
    path(
        "products/",
        cached_response(product_list_spec)(ProductListView.as_view()),
        name="product-list",
    ),
    path(
        # Slugs are ASCII letters, digits, - and _ everywhere they are made: anything else (a NUL
        # byte was a 500) is a 404 before any query.
        "products/<slug:slug>/",
        cached_response(product_detail_spec)(ProductDetailView.as_view()),
        name="product-detail",
    ),
    path("admin/products/", ProductWriteView.as_view(), name="admin-product-write"),
    path("admin/prices/", PricesWriteView.as_view(), name="admin-prices-write"),
]
