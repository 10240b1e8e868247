"""The payment provider's webhook: check the signature over the raw body, then settle."""

from dataclasses import asdict

import orjson
from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.schemas import error
from apps.payments import metrics, services
from apps.payments.errors import InvalidSignature, MalformedWebhook
from apps.payments.serializers import WebhookInput, WebhookResultSchema
from apps.payments.signatures import signature_valid

SIGNATURE_HEADER = OpenApiParameter(
    "X-Shopfast-Signature",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern="^sha256=[0-9a-f]{64}$",
    description="`sha256=` and the hex HMAC-SHA256 of the raw body, keyed with "
    "`PAYMENT_WEBHOOK_SECRET`.",
)


class PaymentWebhookView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="payments_webhook",
        summary="Settle a pending payment (payment provider)",
        description=(
            "Sent by the payment provider, signed. `succeeded` before the order's `expires_at` "
            "makes it `paid` (and sends its buyer one confirmation email); `failed` makes it "
            "`payment_failed` and returns its units. A `succeeded` for an order that no longer "
            "waits (expired, failed, cancelled) leaves it as it is and voids the payment. An "
            "`event_id` seen before changes nothing. A settled order never changes again."
        ),
        parameters=[SIGNATURE_HEADER],
        request=WebhookInput,
        responses={
            200: WebhookResultSchema,
            400: error(
                400,
                'A missing or wrong signature (code "invalid_signature"), or a malformed body '
                '(code "invalid", with "fields"): nothing changed.',
            ),
            404: error(404, 'No order with that number (code "not_found"); nothing recorded.'),
        },
        examples=[
            OpenApiExample(
                "succeeded",
                {"event_id": "evt_0001", "order_number": "4ZK1M0Q8T2PX", "outcome": "succeeded"},
                request_only=True,
            ),
            OpenApiExample(
                "applied",
                {
                    "event_id": "evt_0001",
                    "order_number": "4ZK1M0Q8T2PX",
                    "status": "paid",
                    "result": "applied",
                },
                response_only=True,
            ),
        ],
        tags=["payments"],
    )
    def post(self, request):
        body = request.body  # the raw bytes, as signed (before any parsing)
        if not signature_valid(
            body, request.headers.get("X-Shopfast-Signature"), settings.PAYMENT_WEBHOOK_SECRET
        ):
            metrics.WEBHOOKS.labels("rejected").inc()
            raise InvalidSignature()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            raise MalformedWebhook()
        data = WebhookInput(data=payload)
        data.is_valid(raise_exception=True)
        settlement = services.payment_settle(**data.validated_data)
        return Response(asdict(settlement))
