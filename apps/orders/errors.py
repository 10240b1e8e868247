"""Checkout and order domain errors."""

from apps.core.errors import DomainError


class OrderNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_detail = "No such order."


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"
    default_detail = "The order cannot change to that status."


class EmptyCheckout(DomainError):
    code = "empty_cart"
    default_detail = "Nothing to buy: the cart is empty and the request has no lines."


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    default_detail = "The Idempotency-Key header is required (1 to 64 printable characters)."


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


class IdempotencyKeyInFlight(DomainError):
    status_code = 409
    code = "idempotency_key_in_flight"
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class UnknownSku(DomainError):
    status_code = 404
    code = "unknown_sku"
    default_detail = "Unknown or unavailable SKU."


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    default_detail = "All lines of an order must be in one currency."
