"""The admin's login form under the same guard as the token endpoint (apps/accounts/guard.py)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.accounts.errors import HashingBusy, TooManyFailedLogins
from apps.accounts.guard import (
    failed_login_record,
    failed_logins_check,
    failed_logins_clear,
    hashing_slot,
)
from apps.accounts.throttles import TokenThrottle
from apps.core.exceptions import json_error


def admin_login_guarded(get_response: Callable[[HttpRequest], HttpResponse]):
    """Count the admin's failed logins per account and address, bound its hashing.

    The admin answered 160 wrong passwords in 22 s. A successful login redirects (302); the
    form shown again (200) is a failure.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path != reverse("admin:login"):
            return get_response(request)
        username = str(request.POST.get("username", ""))[:150]
        address = TokenThrottle().get_ident(request)
        try:
            failed_logins_check(username, address)
            with hashing_slot():
                response = get_response(request)
        except (TooManyFailedLogins, HashingBusy) as refused:
            retry = {"Retry-After": str(refused.retry_after)}
            return json_error(refused.code, refused.detail, refused.status_code, retry)
        if response.status_code == 302:
            failed_logins_clear(username, address)
        elif response.status_code == 200:
            failed_login_record(username, address)
        return response

    return middleware
