import pytest
from django.db import IntegrityError, transaction

from apps.inventory.errors import InsufficientStock
from apps.inventory.models import Stock, StockMovement
from apps.inventory.selectors import stock_available
from apps.inventory.services import StockDemand, stock_allocate, stock_release
from apps.inventory.tests.factories import StockFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    """12 variants with 4 units in 'near' (priority 1) and 6 in 'far' (priority 5)."""
    near = WarehouseFactory(code="near", priority=1)
    far = WarehouseFactory(code="far", priority=5)
    rows = []
    for _ in range(12):
        first = StockFactory(warehouse=far, quantity=6)  # created first: the lower pk
        rows.append(
            (first.variant, StockFactory(variant=first.variant, warehouse=near, quantity=4))
        )
    return [variant for variant, _ in rows]


def _levels(variant) -> dict[str, int]:
    return dict(Stock.objects.filter(variant=variant).values_list("warehouse__code", "quantity"))


def test_allocation_serves_the_priority_warehouse_first_whatever_the_row_order(stock):
    with transaction.atomic():
        taken = stock_allocate([StockDemand(stock[0].pk, stock[0].sku, 3)], order_id=1)

    assert _levels(stock[0]) == {"near": 1, "far": 6}
    assert sum(taken.units.values()) == 3


def test_a_line_larger_than_one_warehouse_is_split_across_them(stock):
    with transaction.atomic():
        stock_allocate([StockDemand(stock[1].pk, stock[1].sku, 9)], order_id=1)

    assert _levels(stock[1]) == {"near": 0, "far": 1}
    assert sorted(StockMovement.objects.values_list("delta", flat=True)) == [-5, -4]


def test_a_shortage_changes_nothing_and_lists_each_short_line(stock):
    demands = [
        StockDemand(stock[0].pk, stock[0].sku, 11),
        StockDemand(stock[2].pk, stock[2].sku, 1),
        StockDemand(stock[3].pk, stock[3].sku, 10),
    ]
    with pytest.raises(InsufficientStock) as error, transaction.atomic():
        stock_allocate(demands, order_id=1)

    assert error.value.items == [{"sku": stock[0].sku, "requested": 11, "available": 10}]
    assert stock_available(v.pk for v in stock) == {v.pk: 10 for v in stock}
    assert not StockMovement.objects.exists()


def test_release_returns_every_unit_to_its_row_and_records_it(stock):
    with transaction.atomic():
        stock_allocate([StockDemand(stock[4].pk, stock[4].sku, 7)], order_id=42)
        returned = stock_release(42, reason=StockMovement.Reason.CANCEL)

    assert _levels(stock[4]) == {"near": 4, "far": 6}
    assert sorted(returned.units.values()) == [3, 4]
    assert StockMovement.objects.filter(order_id=42).count() == 4


def test_the_database_refuses_a_second_return_of_the_same_order(stock):
    with transaction.atomic():
        stock_allocate([StockDemand(stock[5].pk, stock[5].sku, 2)], order_id=7)
        stock_release(7, reason=StockMovement.Reason.CANCEL)

    with pytest.raises(IntegrityError, match="stockmove_one_return_per_row"), transaction.atomic():
        stock_release(7, reason=StockMovement.Reason.CANCEL)
    assert _levels(stock[5]) == {"near": 4, "far": 6}


def test_allocation_needs_one_demand_per_variant(stock):
    demand = StockDemand(stock[0].pk, stock[0].sku, 1)
    with pytest.raises(ValueError), transaction.atomic():
        stock_allocate([demand, demand], order_id=1)


def test_availability_ignores_negative_rows_and_counts_variants_without_stock_as_zero(stock):
    assert stock_available([stock[0].pk, 10**12]) == {stock[0].pk: 10, 10**12: 0}


def test_every_movement_records_the_transaction_that_wrote_it(stock):
    with transaction.atomic():
        stock_allocate([StockDemand(stock[6].pk, stock[6].sku, 9)], order_id=3)
    txids = set(StockMovement.objects.values_list("txid", flat=True))
    assert len(txids) == 1 and next(iter(txids)) > 0
