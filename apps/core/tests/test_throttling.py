"""The one-round-trip throttle: exact limit, a Retry-After from the oldest request, per client."""

import pytest
from rest_framework.test import APIRequestFactory

from apps.accounts.throttles import RegisterThrottle


@pytest.fixture
def throttle(monkeypatch):
    monkeypatch.setattr(RegisterThrottle, "THROTTLE_RATES", {"register": "3/min"})
    return RegisterThrottle


def allowed(throttle_class, address: str) -> tuple[bool, float | None]:
    request = APIRequestFactory().post("/", REMOTE_ADDR=address)
    throttle = throttle_class()
    ok = throttle.allow_request(request, None)
    return ok, None if ok else throttle.wait()


def test_the_limit_is_exact_and_the_wait_is_the_oldest_requests_remaining_window(throttle):
    answers = [allowed(throttle, "10.1.1.1") for _ in range(5)]

    assert [ok for ok, _ in answers] == [True, True, True, False, False]
    assert all(0 < wait <= 60 for _, wait in answers[3:])


def test_each_client_has_a_window_of_its_own(throttle):
    for _ in range(3):
        allowed(throttle, "10.1.1.2")

    assert allowed(throttle, "10.1.1.2")[0] is False
    assert allowed(throttle, "10.1.1.3")[0] is True
