"""System checks of the orders app: a payment provider that cannot be loaded stops the start."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from apps.orders.payments import provider_path

REQUIRED = ("authorize", "void")


@register()
def payment_provider_check(app_configs, **kwargs) -> list[Error]:
    """Refuse to start with a ``PAYMENT_PROVIDER`` that is not an importable provider class.

    At run time a provider that raises is an outage, answered as a declined payment; a setting
    that names nothing would turn every checkout into a decline, for good, without a word.
    """
    path = provider_path()
    try:
        provider = import_string(path)
    except ImportError as exc:
        return [
            Error(
                f"PAYMENT_PROVIDER {path!r} cannot be imported: {exc}",
                hint="instant, deferred, or a dotted path to a provider class.",
                id="orders.E001",
            )
        ]
    missing = [name for name in REQUIRED if not callable(getattr(provider, name, None))]
    if missing:
        return [
            Error(
                f"PAYMENT_PROVIDER {path!r} has no {', '.join(missing)} method",
                id="orders.E002",
            )
        ]
    return []


@register()
def payment_webhook_secret_check(app_configs, **kwargs) -> list[Error]:
    """Refuse to start a provider that answers by webhook with no secret to check them by."""
    path = provider_path()
    try:
        answers_later = getattr(import_string(path), "answers_later", False)
    except ImportError:
        return []  # payment_provider_check says so
    if answers_later and len(settings.PAYMENT_WEBHOOK_SECRET) < 16:
        return [
            Error(
                "PAYMENT_WEBHOOK_SECRET is unset or shorter than 16 characters",
                hint="This provider's outcomes come as signed webhooks; without the secret "
                "none can be trusted.",
                id="orders.E003",
            )
        ]
    return []
