"""Abandoned carts go on a schedule; carts in use stay."""

from datetime import timedelta

from django.utils import timezone

from apps.cart.models import Cart, CartLine
from apps.cart.services import carts_purge
from apps.orders.tests.shops import api_for, shop_build


def test_only_the_carts_untouched_for_the_abandon_time_are_deleted_with_their_lines(db, settings):
    settings.CART_ABANDONED_DAYS = 30
    shop = shop_build(buyers=4)
    for i, user in enumerate(shop.users):
        api_for(user).post(
            "/api/v1/cart/lines/", {"sku": shop.sku(i), "quantity": 1}, format="json"
        )
    old = [shop.users[0].pk, shop.users[1].pk]
    Cart.objects.filter(user_id__in=old).update(updated_at=timezone.now() - timedelta(days=31))

    assert carts_purge() == 2

    assert set(Cart.objects.values_list("user_id", flat=True)) == {u.pk for u in shop.users[2:]}
    assert CartLine.objects.count() == 2
