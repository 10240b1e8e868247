"""Prometheus counters for the checkout (multiprocess-safe under ``serve``)."""

from prometheus_client import Counter

ORDERS_PLACED = Counter("shopfast_orders_placed_total", "Orders placed (stock committed).")
CHECKOUT_CONFLICTS = Counter(
    "shopfast_checkout_insufficient_stock_total", "Checkouts refused for lack of stock."
)
CHECKOUT_REPLAYS = Counter(
    "shopfast_checkout_replays_total", "Checkouts answered from a stored key."
)
PAYMENTS_FAILED = Counter("shopfast_payments_failed_total", "Orders whose payment was declined.")
ORDERS_CANCELLED = Counter("shopfast_orders_cancelled_total", "Orders cancelled.")
RESERVATIONS_PLACED = Counter(
    "shopfast_reservations_placed_total", "Orders placed pending a payment (their units held)."
)
