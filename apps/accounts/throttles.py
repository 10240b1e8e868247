"""Per-address rate limits for the anonymous account endpoints (rates: DEFAULT_THROTTLE_RATES)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ClientAddressThrottle(SimpleRateThrottle):
    """Count every request from one client address, valid or not, against the scope's rate."""

    def get_ident(self, request) -> str:
        # DRF's default trusts the whole X-Forwarded-For header when NUM_PROXIES is unset, so any
        # client could dodge the limit by inventing one. Only trust it once proxies are declared.
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegisterThrottle(ClientAddressThrottle):
    scope = "register"


class TokenThrottle(ClientAddressThrottle):
    scope = "token"
