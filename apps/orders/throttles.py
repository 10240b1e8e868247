"""Per-user checkout rate (``DEFAULT_THROTTLE_RATES["checkout"]``)."""

from rest_framework.throttling import UserRateThrottle


class CheckoutThrottle(UserRateThrottle):
    scope = "checkout"
