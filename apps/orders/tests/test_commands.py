"""purge_idempotency_keys: deletes only keys older than the TTL, after which a key is reusable."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.orders.models import IdempotencyKey, Order
from apps.orders.tests.shops import api_for

AGES_HOURS = [1, 2, 5, 10, 20, 23, 25, 30, 48, 72, 100, 200]


def keys_aged(shop, ages_hours=AGES_HOURS) -> list[IdempotencyKey]:
    """One key per age (in hours), spread over the buyers."""
    now = timezone.now()
    keys = IdempotencyKey.objects.bulk_create(
        IdempotencyKey(user=shop.users[i % len(shop.users)], key=f"k-{age}h", request_hash="0" * 64)
        for i, age in enumerate(ages_hours)
    )
    for key, age in zip(keys, ages_hours, strict=True):
        key.created_at = now - timedelta(hours=age)
    IdempotencyKey.objects.bulk_update(keys, ["created_at"])  # skips auto_now_add
    return keys


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_idempotency_keys", *args, stdout=out)
    return out.getvalue()


def remaining() -> set[str]:
    return set(IdempotencyKey.objects.values_list("key", flat=True))


def younger_than(hours: float) -> set[str]:
    return {f"k-{age}h" for age in AGES_HOURS if age < hours}


def test_by_default_keys_older_than_the_ttl_setting_are_deleted(shop, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    keys_aged(shop)

    output = purge()

    assert output == "Deleted 6 idempotency keys.\n"
    assert remaining() == younger_than(24)


def test_the_ttl_setting_is_read_when_the_command_runs(shop, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 6
    keys_aged(shop)

    assert purge() == "Deleted 9 idempotency keys.\n"
    assert remaining() == younger_than(6)


@pytest.mark.parametrize(("hours", "deleted"), [("3", 10), ("1.5", 11), ("48.5", 3), ("1000", 0)])
def test_hours_overrides_the_setting(shop, settings, hours, deleted):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    keys_aged(shop)

    assert purge("--hours", hours) == f"Deleted {deleted} idempotency keys.\n"
    assert remaining() == younger_than(float(hours))


def test_zero_hours_deletes_every_key(shop):
    keys_aged(shop)

    assert purge("--hours", "0") == f"Deleted {len(AGES_HOURS)} idempotency keys.\n"
    assert remaining() == set()


@pytest.mark.parametrize("hours", ["-1", "-0.5", "abc"])
def test_a_negative_or_non_numeric_hours_is_a_command_error_that_deletes_nothing(shop, hours):
    keys_aged(shop)

    with pytest.raises(CommandError):
        purge("--hours", hours)

    assert len(remaining()) == len(AGES_HOURS)


def test_a_purged_key_can_buy_again_and_its_first_order_stays(shop, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    keys_aged(shop)
    api = api_for(shop.users[0])

    def buy(sku: str):
        body = {"lines": [{"sku": sku, "quantity": 1}]}
        return api.post("/api/v1/checkout/", body, format="json", HTTP_IDEMPOTENCY_KEY="reuse-me")

    first = buy("SKU-00")
    refused = buy("SKU-01")
    IdempotencyKey.objects.filter(key="reuse-me").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    purge()
    second = buy("SKU-01")

    assert (first.status_code, refused.status_code, second.status_code) == (201, 422, 201)
    assert second.json()["number"] != first.json()["number"]
    assert Order.objects.count() == 2
    assert (shop.stock(0), shop.stock(1)) == (9, 9)
    assert "reuse-me" in remaining()
