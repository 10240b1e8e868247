"""System checks of the orders app."""

import pytest

from apps.orders.checks import payment_provider_check, payment_webhook_secret_check


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("apps.orders.payments.NoSuchProvider", "orders.E001"),
        ("no.such.module.Provider", "orders.E001"),
        ("apps.orders.payments.PaymentResult", "orders.E002"),
    ],
)
def test_a_payment_provider_that_cannot_work_stops_the_start(settings, path, error):
    # An unknown PAYMENT_PROVIDER made every checkout a 402 payment_failed, silently.
    settings.PAYMENT_PROVIDER = path
    assert [found.id for found in payment_provider_check(None)] == [error]


def test_the_default_payment_provider_passes_the_check():
    assert payment_provider_check(None) == []


@pytest.mark.parametrize("name", ["instant", "deferred", "apps.orders.payments.DeferredProvider"])
def test_the_providers_are_known_by_short_names_and_paths(settings, name):
    settings.PAYMENT_PROVIDER = name
    assert payment_provider_check(None) == []


@pytest.mark.parametrize("secret", ["", "short-secret"])
def test_a_provider_that_answers_by_webhook_needs_a_secret_to_start(settings, secret):
    settings.PAYMENT_PROVIDER = "deferred"
    settings.PAYMENT_WEBHOOK_SECRET = secret
    assert [found.id for found in payment_webhook_secret_check(None)] == ["orders.E003"]


def test_a_provider_that_answers_at_once_needs_no_webhook_secret(settings):
    settings.PAYMENT_PROVIDER = "instant"
    settings.PAYMENT_WEBHOOK_SECRET = ""
    assert payment_webhook_secret_check(None) == []
