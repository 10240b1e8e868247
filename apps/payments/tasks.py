"""Background tasks of payments: thin wrappers over services."""

from apps.payments import services
from config.celery import app


@app.task(autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def reservations_expire() -> int:
    """Expire pending payments past their time and return their units (beat runs it)."""
    return services.reservations_expire()
