from django.urls import path

from apps.payments.views import PaymentWebhookView

urlpatterns = [
    path("payments/webhook/", PaymentWebhookView.as_view(), name="payments-webhook"),
]
