from django.urls import path

from apps.catalog.views import CategoryListView, ProductDetailView, ProductListView

urlpatterns = [
    path("categories/", CategoryListView.as_view(), name="category-list"),
    path("products/", ProductListView.as_view(), name="product-list"),
    path("products/<str:slug>/", ProductDetailView.as_view(), name="product-detail"),
]
