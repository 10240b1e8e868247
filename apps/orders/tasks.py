"""Background tasks of orders: thin wrappers over services, retried with backoff."""

from apps.orders import emails, idempotency, services
from config.celery import app

RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "max_retries": 8}


@app.task(**RETRY)
def order_confirmations_send() -> int:
    """Send the confirmation emails that are due (beat runs it; a newly paid order sends it)."""
    return emails.order_confirmations_send()


@app.task(**RETRY)
def payments_void(references: list[str] | None = None) -> int:
    """Void the authorizations of the orders marked void_due (beat runs it; marking wakes it).

    ``references``: what messages sent before the void outbox carry; voided first.
    """
    if references:
        services.payments_void(references)
    return services.payments_void_due()


@app.task
def idempotency_keys_purge() -> int:
    """Delete Idempotency-Keys past IDEMPOTENCY_KEY_TTL_HOURS."""
    return idempotency.idempotency_purge()
