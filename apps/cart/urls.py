from django.urls import path

from apps.cart.views import CartLinesView, CartLineView, CartView

urlpatterns = [
    path("cart/", CartView.as_view(), name="cart"),
    path("cart/lines/", CartLinesView.as_view(), name="cart-lines"),
    path("cart/lines/<id:line_id>/", CartLineView.as_view(), name="cart-line"),
]
