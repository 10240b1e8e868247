"""Prometheus figures of payments that answer later (multiprocess-safe under ``serve``)."""

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS = Counter(
    "shopfast_payment_webhooks_total",
    "Payment webhooks by what they did (applied, duplicate, ignored, voided, rejected).",
    ["result"],
)
RESERVATIONS_SETTLED = Counter(
    "shopfast_reservations_settled_total",
    "Pending payments settled by webhook, by outcome (paid, payment_failed).",
    ["status"],
)
RESERVATIONS_EXPIRED = Counter(
    "shopfast_reservations_expired_total", "Pending payments expired, their units returned."
)
RESERVATIONS_HELD = Gauge(
    "shopfast_reservations_held",
    "Orders pending a payment, their units held (as of the last expiry run).",
    multiprocess_mode="mostrecent",
)
EXPIRY_LAG = Histogram(
    "shopfast_reservation_expiry_lag_seconds",
    "From a reservation's expires_at to its expiry by the task.",
    buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120, 300),
)
