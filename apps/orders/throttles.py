"""Per-user checkout rate (``DEFAULT_THROTTLE_RATES["checkout"]``)."""

from rest_framework.throttling import UserRateThrottle

from apps.core.throttling import WindowRateThrottle


class CheckoutThrottle(WindowRateThrottle, UserRateThrottle):
    scope = "checkout"
