"""Payment webhook errors."""

from apps.core.errors import DomainError


class InvalidSignature(DomainError):
    code = "invalid_signature"
    default_detail = (
        "Missing or wrong X-Shopfast-Signature: expected sha256=<hex HMAC-SHA256 of the raw "
        "body, keyed with the webhook secret>."
    )


class MalformedWebhook(DomainError):
    code = "invalid"
    default_detail = "The webhook body is not a JSON object."
