"""The perf gate's invariants, on a real shop: they hold after real checkouts and catch each kind
of lost or invented stock."""

import pytest
from django.db import connection
from django.db.models import F

from apps.inventory.models import Stock
from apps.orders.models import OrderLine
from apps.orders.services import LineRequest, order_cancel, order_place
from apps.orders.tests.shops import shop_build
from perf import gate_data

FLASH_UNITS = 7


@pytest.fixture
def sale(db):
    """A shop, the flash SKU opened with 7 units, and checkouts: 2 flash orders, 1 other, 1
    cancelled. Return the stock snapshot before the sale and what the buyers were answered."""
    shop = shop_build()
    gate_data.flash_sale_prepare(buyers=2)
    initial = gate_data.stock_snapshot()
    initial.update(gate_data.flash_sale_open(FLASH_UNITS))
    buyer, other = shop.users[:2]
    flash = [LineRequest(gate_data.FLASH_SKU, 2)]
    order_place(buyer, key="flash-1", lines=flash)
    order_place(other, key="flash-2", lines=[LineRequest(gate_data.FLASH_SKU, 1)])
    order_place(buyer, key="flash-1", lines=flash)  # a replay: no second order
    order_place(buyer, key="spread", lines=[LineRequest(shop.sku(0), 3)])
    cancelled = order_place(other, key="gone", lines=[LineRequest(shop.sku(1), 2)])
    order_cancel(other, number=cancelled.body["number"])
    return initial, {"orders": 2, "units": 3}


def failed(gates) -> list[str]:
    return [g.name for g in gates if not g.passed]


def test_after_real_checkouts_replays_and_a_cancellation_every_invariant_holds(sale):
    initial, seen = sale
    gates = gate_data.invariants_check(initial, FLASH_UNITS, seen)
    assert failed(gates) == []
    assert len(gates) == 7


def test_a_decrement_without_a_ledger_entry_is_caught(sale):
    initial, seen = sale
    Stock.objects.filter(variant__sku="SKU-05").update(quantity=F("quantity") - 1)
    assert failed(gate_data.invariants_check(initial, FLASH_UNITS, seen)) == [
        "stock rows where now != initial + ledger"
    ]


def test_an_order_line_without_its_decrement_is_caught(sale):
    initial, seen = sale
    OrderLine.objects.filter(sku="SKU-00").update(quantity=F("quantity") + 1)
    assert failed(gate_data.invariants_check(initial, FLASH_UNITS, seen)) == [
        "variants where units on orders != units decremented"
    ]


def test_units_the_buyers_were_not_answered_for_are_caught(sale):
    initial, seen = sale
    assert failed(gate_data.invariants_check(initial, FLASH_UNITS, {**seen, "units": 2})) == [
        "flash: units sold (initial - remaining)"
    ]
    assert failed(gate_data.invariants_check(initial, FLASH_UNITS, {**seen, "orders": 3})) == [
        "flash: orders in the database"
    ]


def test_negative_stock_is_caught_even_without_the_check_constraint(sale):
    initial, seen = sale
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks may be pending
        cursor.execute("ALTER TABLE inventory_stock DROP CONSTRAINT stock_quantity_non_negative")
    row = Stock.objects.filter(variant__sku="SKU-07").first()
    Stock.objects.filter(pk=row.pk).update(quantity=-1)
    initial[row.pk] = -1  # as if it had started negative: conservation holds, the floor does not
    assert failed(gate_data.invariants_check(initial, FLASH_UNITS, seen)) == ["negative stock rows"]


def test_the_template_fingerprint_follows_the_migrations(tmp_path, monkeypatch):
    before = gate_data.fingerprint()
    assert before == gate_data.fingerprint()
    monkeypatch.setattr(gate_data, "SEED_ARGS", ("--products", "10", "--seed", "1"))
    assert gate_data.fingerprint() != before
