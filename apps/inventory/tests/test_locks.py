import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.inventory.locks import stock_lock_for_variants, stock_lock_rows
from apps.inventory.tests.factories import StockFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    warehouses = [WarehouseFactory(code="a", priority=2), WarehouseFactory(code="b", priority=1)]
    return [StockFactory(warehouse=warehouses[i % 2]) for i in range(12)]


@pytest.mark.django_db(transaction=True)  # a plain django_db test runs inside a transaction
def test_locking_outside_a_transaction_is_a_programming_error(rows):
    with pytest.raises(RuntimeError):
        stock_lock_rows([rows[0].pk])


def test_variant_rows_are_locked_in_one_query_in_primary_key_order(rows):
    wanted = [rows[9].variant_id, rows[2].variant_id, rows[5].variant_id]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = stock_lock_for_variants(wanted)

    assert [row[0] for row in locked] == sorted(r.pk for r in (rows[2], rows[5], rows[9]))
    assert [row[3] for row in locked] == [r.warehouse.priority for r in (rows[2], rows[5], rows[9])]
    (query,) = queries.captured_queries
    assert query["sql"].endswith('ORDER BY 1 ASC FOR UPDATE OF "inventory_stock"')


def test_rows_are_locked_by_id_in_primary_key_order(rows):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = stock_lock_rows([rows[7].pk, rows[1].pk])

    assert list(locked) == [rows[1].pk, rows[7].pk]
    assert "ORDER BY" in queries.captured_queries[0]["sql"]
    assert queries.captured_queries[0]["sql"].endswith("FOR UPDATE")
