from django.urls import path, register_converter

from apps.orders.views import CheckoutView, OrderCancelView, OrderDetailView, OrderListView


class OrderNumberConverter:
    """An order number as issued (letters and digits, at most 20); anything else is a 404 that
    never reaches the database (a NUL byte there is a psycopg DataError, i.e. a 500)."""

    regex = "[0-9A-Za-z]{1,20}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OrderNumberConverter, "order_number")

urlpatterns = [
    path("checkout/", CheckoutView.as_view(), name="checkout"),
    path("orders/", OrderListView.as_view(), name="order-list"),
    path("orders/<order_number:number>/", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<order_number:number>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
]
