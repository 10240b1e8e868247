"""System checks of the orders app."""

import pytest

from apps.orders.checks import payment_provider_check


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
