"""Cart writes: one cart per user, lines that add up, limits, currencies, owner-only changes."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.cart.errors import CartFull, CartLineNotFound, CurrencyMismatch, QuantityLimit, UnknownSku
from apps.cart.models import Cart, CartLine
from apps.cart.services import cart_line_add, cart_line_remove, cart_line_update, cart_lines_take
from apps.catalog.tests.factories import ProductFactory, VariantFactory


def lines_of(user) -> dict[str, int]:
    return dict(CartLine.objects.filter(cart__user=user).values_list("variant__sku", "quantity"))


def test_the_first_add_creates_the_one_cart_and_later_adds_reuse_it(shop):
    buyer = shop.users[0]

    ids = [cart_line_add(buyer, sku=shop.sku(i), quantity=1).line_id for i in range(10)]

    assert Cart.objects.filter(user=buyer).count() == 1
    assert len(set(ids)) == 10
    assert lines_of(buyer) == {shop.sku(i): 1 for i in range(10)}


def test_every_buyer_gets_a_cart_of_their_own(shop):
    for i, buyer in enumerate(shop.users):
        cart_line_add(buyer, sku=shop.sku(i), quantity=i + 1)

    assert Cart.objects.count() == 10
    for i, buyer in enumerate(shop.users):
        assert lines_of(buyer) == {shop.sku(i): i + 1}


def test_the_same_sku_again_adds_to_its_line(shop):
    buyer = shop.users[0]

    first = cart_line_add(buyer, sku="SKU-03", quantity=2).line_id
    second = cart_line_add(buyer, sku="SKU-03", quantity=5).line_id

    assert first == second
    assert lines_of(buyer) == {"SKU-03": 7}


def test_a_line_may_reach_the_per_line_limit_but_not_pass_it(shop, settings):
    settings.CART_MAX_LINE_QUANTITY = 10
    buyer = shop.users[0]
    cart_line_add(buyer, sku="SKU-00", quantity=6)
    cart_line_add(buyer, sku="SKU-00", quantity=4)

    with pytest.raises(QuantityLimit) as raised:
        cart_line_add(buyer, sku="SKU-00", quantity=1)

    assert raised.value.status_code == 400
    assert raised.value.as_payload()["limit"] == 10
    assert lines_of(buyer) == {"SKU-00": 10}


def test_a_new_line_above_the_per_line_limit_is_refused_and_nothing_is_stored(shop, settings):
    settings.CART_MAX_LINE_QUANTITY = 10

    with pytest.raises(QuantityLimit):
        cart_line_add(shop.users[0], sku="SKU-00", quantity=11)

    assert not CartLine.objects.exists()


def test_a_full_cart_refuses_a_new_sku_but_still_adds_to_its_lines(shop, settings):
    settings.CART_MAX_LINES = 10
    buyer = shop.users[0]
    for i in range(10):
        cart_line_add(buyer, sku=shop.sku(i), quantity=1)

    with pytest.raises(CartFull) as raised:
        cart_line_add(buyer, sku="SKU-10", quantity=1)
    cart_line_add(buyer, sku="SKU-09", quantity=2)

    assert raised.value.code == "cart_full"
    assert len(lines_of(buyer)) == 10
    assert lines_of(buyer)["SKU-09"] == 3


@pytest.mark.parametrize("sku", ["NOPE-1", "", "sku-00"])
def test_an_unknown_sku_is_refused(shop, sku):
    with pytest.raises(UnknownSku) as raised:
        cart_line_add(shop.users[0], sku=sku, quantity=1)

    assert raised.value.status_code == 404
    assert raised.value.code == "unknown_sku"
    assert not Cart.objects.exists()


def test_an_inactive_variant_is_unknown(shop):
    shop.variants[4].is_active = False
    shop.variants[4].save(update_fields=["is_active"])

    with pytest.raises(UnknownSku):
        cart_line_add(shop.users[0], sku="SKU-04", quantity=1)


def test_a_variant_of_an_inactive_product_is_unknown(shop):
    product = shop.variants[5].product
    product.is_active = False
    product.save(update_fields=["is_active"])

    with pytest.raises(UnknownSku):
        cart_line_add(shop.users[0], sku="SKU-05", quantity=1)


def test_a_line_in_another_currency_is_refused(shop):
    dollars = VariantFactory(
        product=ProductFactory(slug="import"), sku="USD-1", price=Decimal("3"), currency="USD"
    )
    buyer = shop.users[0]
    cart_line_add(buyer, sku="SKU-00", quantity=1)

    with pytest.raises(CurrencyMismatch) as raised:
        cart_line_add(buyer, sku=dollars.sku, quantity=1)

    assert raised.value.status_code == 400
    assert raised.value.code == "currency_mismatch"
    assert lines_of(buyer) == {"SKU-00": 1}


def test_an_empty_cart_accepts_any_currency(shop):
    VariantFactory(product=ProductFactory(slug="import"), sku="USD-1", currency="USD")

    cart_line_add(shop.users[0], sku="USD-1", quantity=2)

    assert lines_of(shop.users[0]) == {"USD-1": 2}


def test_update_sets_the_quantity_of_the_buyers_own_line(shop):
    buyer = shop.users[0]
    line_id = cart_line_add(buyer, sku="SKU-01", quantity=3).line_id

    cart_line_update(buyer, line_id=line_id, quantity=9)

    assert lines_of(buyer) == {"SKU-01": 9}


def test_update_above_the_limit_is_refused(shop, settings):
    settings.CART_MAX_LINE_QUANTITY = 10
    buyer = shop.users[0]
    line_id = cart_line_add(buyer, sku="SKU-01", quantity=3).line_id

    with pytest.raises(QuantityLimit):
        cart_line_update(buyer, line_id=line_id, quantity=11)

    assert lines_of(buyer) == {"SKU-01": 3}


def test_another_users_line_can_be_neither_updated_nor_removed(shop):
    owner, intruder = shop.users[0], shop.users[1]
    line_id = cart_line_add(owner, sku="SKU-01", quantity=3).line_id
    cart_line_add(intruder, sku="SKU-02", quantity=1)

    with pytest.raises(CartLineNotFound):
        cart_line_update(intruder, line_id=line_id, quantity=1)
    with pytest.raises(CartLineNotFound):
        cart_line_remove(intruder, line_id=line_id)

    assert lines_of(owner) == {"SKU-01": 3}
    assert lines_of(intruder) == {"SKU-02": 1}


def test_remove_deletes_only_that_line(shop):
    buyer = shop.users[0]
    ids = [cart_line_add(buyer, sku=shop.sku(i), quantity=1).line_id for i in range(10)]

    cart_line_remove(buyer, line_id=ids[3])

    assert set(lines_of(buyer)) == {shop.sku(i) for i in range(10)} - {"SKU-03"}
    with pytest.raises(CartLineNotFound):
        cart_line_remove(buyer, line_id=ids[3])


def test_taking_removes_what_was_bought_and_only_from_the_buyers_cart(shop):
    for i, buyer in enumerate(shop.users):
        cart_line_add(buyer, sku=shop.sku(i), quantity=2)
    buyer = shop.users[0]
    cart_line_add(buyer, sku=shop.sku(11), quantity=5)
    variant = dict(
        CartLine.objects.filter(cart__user=buyer).values_list("variant__sku", "variant_id")
    )

    # Bought: all of SKU 0, 3 of the 5 of SKU 11 (two more were added after the checkout read).
    cart_lines_take(buyer, {variant[shop.sku(0)]: 2, variant[shop.sku(11)]: 3})

    assert lines_of(buyer) == {shop.sku(11): 2}
    assert CartLine.objects.count() == 10
    assert Cart.objects.filter(user=buyer).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("existing", [0, 4], ids=["new-line", "existing-line"])
def test_concurrent_adds_of_one_sku_by_one_buyer_add_up_exactly(shop, existing):
    buyer = shop.users[0]
    if existing:
        cart_line_add(buyer, sku="SKU-07", quantity=existing)
    threads_count, adds_each = 4, 5
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def add(quantity: int) -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(adds_each):
                cart_line_add(buyer, sku="SKU-07", quantity=quantity)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(n + 1,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Cart.objects.filter(user=buyer).count() == 1
    assert lines_of(buyer) == {"SKU-07": existing + adds_each * (1 + 2 + 3 + 4)}
