"""System checks for settings that Django's own checks do not know about."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token_check(app_configs, **kwargs) -> list[Warning]:
    """Warn when /metrics has no token: behind a local proxy every client looks like loopback."""
    if settings.METRICS_TOKEN:
        return []
    return [
        Warning(
            "METRICS_TOKEN is not set: /metrics is served to METRICS_ALLOWED_NETWORKS "
            "without a token, and behind a reverse proxy on this host that is every client.",
            hint="Set METRICS_TOKEN and scrape with 'Authorization: Bearer <token>'.",
            id="shopfast.W001",
        )
    ]
