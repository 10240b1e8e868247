"""Read routing against a real streaming replica (run by test_routing.py, in a pytest of its own).

The parent starts a primary and a hot standby (``tests/replication.py``) and runs this module
with ``DATABASE_URL`` at the primary and ``DATABASE_REPLICA_URL`` at the standby: the "replica"
alias is the standby serving the test database (Django's test ``MIRROR``), never a copy of the
primary's connection. Which server answered is read from the server itself
(``pg_is_in_recovery()`` and the statements captured per connection).
"""

import time
from decimal import Decimal

import psycopg
import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.catalog.models import Product
from apps.core.routing import REPLICA, REPLICA_HEALTH, replica_reads
from apps.orders.models import Order
from apps.orders.tests.shops import api_for, shop_build
from tests.replication import Pair

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
PRODUCTS = reverse("product-list")
ORDERS = reverse("order-list")


@pytest.fixture(autouse=True)
def fresh_health():
    REPLICA_HEALTH.reset()
    yield
    REPLICA_HEALTH.reset()


@pytest.fixture
def pair() -> Pair:
    return Pair.from_env()


@pytest.fixture
def shop():
    return shop_build(skus=12, buyers=3)


def served_by(call, replica_up: bool = True):
    """Run ``call``; return its result and the statements each server ran for it."""
    with CaptureQueriesContext(connections["default"]) as primary:
        if not replica_up:  # capturing would connect to it
            return call(), [q["sql"] for q in primary], []
        with CaptureQueriesContext(connections[REPLICA]) as replica:
            result = call()
    return result, [q["sql"] for q in primary], [q["sql"] for q in replica]


def catalog_statements(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "catalog_product" in sql]


def test_the_replica_alias_is_a_standby_serving_the_test_database():
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        standby, name = cursor.fetchone()
    assert standby is True
    assert name == connections["default"].settings_dict["NAME"]


def test_an_anonymous_product_list_is_read_from_the_replica(client, shop):
    response, primary, replica = served_by(lambda: client.get(PRODUCTS))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 12
    assert catalog_statements(replica)
    assert not catalog_statements(primary)


def test_a_buyers_order_history_is_read_from_the_replica(shop):
    buyer = shop.users[0]
    Order.objects.create(user=buyer, number="R-0001", total=Decimal("12.00"), currency="EUR")
    response, primary, replica = served_by(lambda: api_for(buyer).get(ORDERS))
    assert response.status_code == 200
    assert [o["number"] for o in response.json()["results"]] == ["R-0001"]
    assert any("orders_order" in sql for sql in replica)
    assert not any("orders_order" in sql for sql in primary)


def test_a_commit_is_visible_on_the_replica_to_the_next_read_of_anyone(client, shop):
    # synchronous_commit = remote_apply: the commit returns once the standby has applied it.
    Product.objects.filter(slug="thing-00").update(name="Renamed at once")
    response, _primary, replica = served_by(lambda: client.get(PRODUCTS + "?ordering=name"))
    assert catalog_statements(replica)
    assert "Renamed at once" in [p["name"] for p in response.json()["results"]]


def test_a_client_that_wrote_reads_from_the_primary_for_the_pin_window(shop, settings):
    buyer, other = api_for(shop.users[0]), api_for(shop.users[1])
    body = {"lines": [{"sku": "SKU-01", "quantity": 1}]}
    placed = buyer.post(reverse("checkout"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert placed.status_code == 201, placed.json()

    response, primary, replica = served_by(lambda: buyer.get(ORDERS))
    assert [o["number"] for o in response.json()["results"]] == [placed.json()["number"]]
    assert any("orders_order" in sql for sql in primary)
    assert not replica
    _response, _primary, replica = served_by(lambda: other.get(ORDERS))
    assert any("orders_order" in sql for sql in replica)


def test_the_pin_ends_after_its_window(shop, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 1
    buyer = api_for(shop.users[0])
    buyer.post(reverse("checkout"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")  # a 400 pins too
    time.sleep(1.2)
    _response, _primary, replica = served_by(lambda: buyer.get(ORDERS))
    assert any("orders_order" in sql for sql in replica)


def test_reads_inside_a_transaction_stay_on_the_primary(shop):
    def count_in_transaction():
        with replica_reads(), transaction.atomic():
            return Product.objects.count()

    count, primary, replica = served_by(count_in_transaction)
    assert count == 12
    assert catalog_statements(primary) and not replica


def test_reads_outside_a_request_stay_on_the_primary(shop):
    count, primary, replica = served_by(lambda: Product.objects.count())
    assert count == 12
    assert catalog_statements(primary) and not replica


def test_a_replica_that_lags_beyond_the_setting_is_skipped(client, shop, pair, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    pair.synchronous(False)  # a paused standby would hold every commit
    pair.replay_pause()
    try:
        with psycopg.connect(_primary_dsn(), autocommit=True) as c:
            c.execute(
                "UPDATE catalog_product SET name = 'Only on the primary' WHERE slug = 'thing-01'"
            )
        time.sleep(0.7)
        response, primary, replica = served_by(lambda: client.get(PRODUCTS + "?ordering=name"))
        assert "Only on the primary" in [p["name"] for p in response.json()["results"]]
        assert catalog_statements(primary) and not catalog_statements(replica)
        assert REPLICA_HEALTH.lag > 0.5
    finally:
        pair.replay_resume()
        pair.synchronous(True)


def test_a_replica_that_is_down_is_skipped_and_used_again_once_back(client, shop, pair, settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0.2
    pair.synchronous(False)
    pair.replica_stop()
    try:
        response, primary, _ = served_by(lambda: client.get(PRODUCTS), replica_up=False)
        assert response.status_code == 200
        assert len(response.json()["results"]) == 12
        assert catalog_statements(primary)
        assert REPLICA_HEALTH.usable_now is False
    finally:
        pair.replica_start()
        pair.synchronous(True)
    deadline = time.monotonic() + 15
    while not REPLICA_HEALTH.usable() and time.monotonic() < deadline:
        time.sleep(0.2)
    _response, primary, replica = served_by(lambda: client.get(PRODUCTS))
    assert catalog_statements(replica) and not catalog_statements(primary)


def _primary_dsn() -> str:
    s = connections["default"].settings_dict
    return f"host={s['HOST']} port={s['PORT']} user={s['USER']} dbname={s['NAME']}"


def test_a_replica_lost_during_a_request_is_a_503_and_the_next_reads_use_the_primary(
    client, shop, pair, settings
):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60  # its own check would not notice for a minute
    assert client.get(PRODUCTS).status_code == 200  # read from the replica: its connection is open
    pair.synchronous(False)
    pair.replica_stop()
    try:
        lost = client.get(PRODUCTS)
        assert lost.status_code == 503
        assert lost["Retry-After"]
        assert lost.json()["code"] == "service_unavailable"
        response, primary, _ = served_by(lambda: client.get(PRODUCTS), replica_up=False)
        assert response.status_code == 200
        assert catalog_statements(primary)
    finally:
        pair.replica_start()
        pair.synchronous(True)
