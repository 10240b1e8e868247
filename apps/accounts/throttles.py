"""Per-address rate limits for the anonymous account endpoints (rates: DEFAULT_THROTTLE_RATES)."""

import logging

from rest_framework.settings import api_settings

from apps.core.throttling import WindowRateThrottle

logger = logging.getLogger(__name__)
_unconfigured_proxy_seen = False


class ClientAddressThrottle(WindowRateThrottle):
    """Count every request from one client address, valid or not, against the scope's rate."""

    def get_ident(self, request) -> str:
        # DRF's default trusts the whole X-Forwarded-For header when NUM_PROXIES is unset, so any
        # client could dodge the limit by inventing one. Only trust it once proxies are declared.
        if api_settings.NUM_PROXIES is None:
            if "HTTP_X_FORWARDED_FOR" in request.META:
                _warn_unconfigured_proxy(request.META.get("REMOTE_ADDR", ""))
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegisterThrottle(ClientAddressThrottle):
    scope = "register"


class TokenThrottle(ClientAddressThrottle):
    scope = "token"


def _warn_unconfigured_proxy(address: str) -> None:
    """Say once per process that a proxy seems to be in front while NUM_PROXIES is unset."""
    global _unconfigured_proxy_seen
    if _unconfigured_proxy_seen:
        return
    _unconfigured_proxy_seen = True
    logger.warning(
        "requests from %s carry X-Forwarded-For but NUM_PROXIES is unset: every client behind "
        "that proxy shares one throttle bucket. Set NUM_PROXIES to the number of proxies in front.",
        address,
    )
