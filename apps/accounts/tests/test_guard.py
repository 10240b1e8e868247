"""Password guessing: failures counted per account and per address, hashing bounded per process."""

import pytest
from rest_framework.test import APIClient

from apps.accounts import guard
from apps.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    return settings


def attempt(client, username, password, address="10.1.0.1"):
    body = {"username": username, "password": password}
    return client.post(TOKEN, body, format="json", REMOTE_ADDR=address)


def test_an_account_with_too_many_failures_is_refused_before_hashing_from_any_address(limits):
    user = UserFactory()
    client = APIClient()
    failures = [
        attempt(client, user.username, "wrong", f"10.1.0.{n}").status_code for n in range(3)
    ]
    refused = attempt(client, user.username, PASSWORD, "10.1.0.99")  # even the right password
    other = UserFactory()

    assert failures == [400, 400, 400]
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) == limits.LOGIN_FAILURE_WINDOW_SECONDS
    assert attempt(client, other.username, PASSWORD, "10.1.0.98").status_code == 200


def test_an_address_guessing_many_accounts_is_refused(limits):
    client = APIClient()
    statuses = [attempt(client, f"guess{n}", "wrong").status_code for n in range(6)]
    user = UserFactory()

    assert statuses == [400] * 5 + [429]
    assert attempt(client, user.username, PASSWORD, "10.1.0.2").status_code == 200


def test_a_success_clears_the_accounts_count(limits):
    user = UserFactory()
    client = APIClient()
    for _ in range(2):
        attempt(client, user.username, "wrong", "10.1.0.3")
    assert attempt(client, user.username, PASSWORD, "10.1.0.3").status_code == 200

    again = [attempt(client, user.username, "wrong", "10.1.0.4").status_code for _ in range(3)]
    assert again == [400, 400, 400]


def test_the_admin_login_form_is_guarded_too(limits, client):
    # 160 wrong admin passwords in 22 s were all answered.
    staff = UserFactory(is_staff=True)
    form = {"username": staff.username, "password": "wrong", "next": "/admin/"}
    statuses = [client.post("/admin/login/", form).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    right = {**form, "password": PASSWORD}
    assert client.post("/admin/login/", right).status_code == 429  # until the window ends


def test_a_login_waits_for_a_free_hashing_slot_and_is_a_503_when_none_frees(settings):
    settings.PASSWORD_HASHING_WAIT_SECONDS = 0.2
    user = UserFactory()
    slots = guard._semaphore()
    taken = [slots.acquire(blocking=False) for _ in range(settings.PASSWORD_HASHING_CONCURRENCY)]
    try:
        busy = attempt(APIClient(), user.username, PASSWORD)
    finally:
        for held in taken:
            if held:
                slots.release()

    assert busy.status_code == 503 and busy.json()["code"] == "busy"
    assert busy["Retry-After"] == "1"
    assert attempt(APIClient(), user.username, PASSWORD).status_code == 200


def test_an_unknown_username_costs_no_password_hash(monkeypatch):
    # Django hashes a dummy password for an unknown user: a made-up-username flood cost as much
    # CPU as real guesses (the product list's p95 went from 2.5 ms to 433 ms under one).
    from django.contrib.auth import base_user
    from django.contrib.auth.base_user import AbstractBaseUser

    user = UserFactory()
    hashed = []
    real_make, real_check = base_user.make_password, AbstractBaseUser.check_password
    monkeypatch.setattr(
        base_user, "make_password", lambda *a, **k: hashed.append(1) or real_make(*a, **k)
    )
    monkeypatch.setattr(
        AbstractBaseUser,
        "check_password",
        lambda self, raw: hashed.append(2) or real_check(self, raw),
    )
    client = APIClient()

    assert attempt(client, "nobody-at-all", "wrong").status_code == 400
    assert hashed == []
    assert attempt(client, user.username, PASSWORD).status_code == 200
    assert hashed == [2]
