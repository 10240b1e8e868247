"""Background tasks of carts: thin wrappers over services."""

from apps.cart import services
from config.celery import app


@app.task
def carts_purge() -> int:
    """Delete carts abandoned for CART_ABANDONED_DAYS."""
    return services.carts_purge()
