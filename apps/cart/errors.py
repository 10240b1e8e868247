"""Cart domain errors."""

from apps.core.errors import DomainError


class UnknownSku(DomainError):
    status_code = 404
    code = "unknown_sku"
    default_detail = "No product is sold under this SKU."


class CartLineNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_detail = "No such line in your cart."


class QuantityLimit(DomainError):
    code = "quantity_limit"
    default_detail = "The quantity is above the per-line limit."


class CartFull(DomainError):
    code = "cart_full"
    default_detail = "The cart already holds the maximum number of lines."


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    default_detail = "All lines of a cart must be in one currency."
