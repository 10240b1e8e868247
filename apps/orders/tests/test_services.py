from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.cart.models import CartLine
from apps.cart.services import cart_line_add
from apps.inventory.errors import InsufficientStock
from apps.inventory.models import Stock, StockMovement
from apps.orders import services
from apps.orders.errors import (
    EmptyCheckout,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InvalidTransition,
    UnknownSku,
)
from apps.orders.idempotency import idempotency_claim, request_fingerprint
from apps.orders.models import IdempotencyKey, Order
from apps.orders.payments import PaymentResult
from apps.orders.services import LineRequest, order_cancel, order_place
from apps.orders.tests.shops import shop_build

pytestmark = pytest.mark.django_db
_SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def _quantities(shop, i: int) -> dict[str, int]:
    return dict(
        Stock.objects.filter(variant=shop.variants[i]).values_list("warehouse__code", "quantity")
    )


def _tables_snapshot() -> tuple:
    return (
        sorted(Stock.objects.values_list("pk", "quantity")),
        Order.objects.count(),
        StockMovement.objects.count(),
        IdempotencyKey.objects.count(),
    )


class TestOrderPlace:
    def test_it_takes_units_from_the_first_priority_warehouse_then_the_next(self, shop):
        result = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 7)])

        assert result.status == 201
        assert result.body["status"] == "paid"
        assert result.body["lines"] == [
            {"sku": "SKU-00", "quantity": 7, "unit_price": "10.00", "line_total": "70.00"}
        ]
        assert result.body["total"] == "70.00" and result.body["currency"] == "EUR"
        assert _quantities(shop, 0) == {"main": 0, "overflow": 3}

    def test_one_line_and_twenty_lines_cost_the_same_number_of_queries(self, db):
        shop = shop_build(skus=24)
        counts = []
        for first, n, user in ((0, 1, shop.users[0]), (1, 20, shop.users[1])):
            # 6 units: more than one warehouse holds, so every line splits over 2 stock rows.
            lines = [LineRequest(shop.sku(i), 6) for i in range(first, first + n)]
            with CaptureQueriesContext(connection) as queries:
                assert order_place(user, key=f"k{n}", lines=lines).status == 201
            counts.append(sum(not q["sql"].startswith(_SAVEPOINTS) for q in queries))
        # orders_checkout_quote, then orders_checkout_place. (The savepoints are the test's
        # transaction: in production each statement is its own.)
        assert counts == [2, 2]

    def test_the_order_is_quoted_by_one_statement_and_written_with_its_payment_by_another(
        self, shop
    ):
        with CaptureQueriesContext(connection) as queries:
            order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(i), 1) for i in (3, 1)])
        sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(_SAVEPOINTS)]
        assert [s.split("(")[0] for s in sql] == [
            "SELECT orders_checkout_quote",
            "SELECT orders_checkout_place",
        ]

    @pytest.mark.django_db(transaction=True)
    def test_the_payment_provider_is_called_outside_any_transaction(self, test_payments):
        shop = shop_build()
        order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 1)])

        assert [call["in_transaction"] for call in test_payments.calls] == [False]

    def test_a_declined_payment_keeps_the_order_takes_no_stock_and_replays_the_decline(
        self, shop, test_payments
    ):
        test_payments.decline_next()
        first = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 7)])
        replay = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 7)])

        assert first.status == 402 and first.body["code"] == "payment_failed"
        assert first.body["order"]["status"] == "payment_failed"
        assert first.body["order"]["total"] == "70.00"
        assert replay == first
        assert shop.stock(0) == 10
        assert Order.objects.get().status == "payment_failed"
        assert Order.objects.get().lines.get().quantity == 7
        assert not StockMovement.objects.exists()
        assert len(test_payments.calls) == 1

    def test_a_declined_cart_checkout_leaves_the_cart_as_it_was(self, shop, test_payments):
        buyer = shop.users[0]
        cart_line_add(buyer, sku=shop.sku(4), quantity=3)
        test_payments.decline_next()

        assert order_place(buyer, key="k", lines=None).status == 402
        assert list(CartLine.objects.values_list("quantity", flat=True)) == [3]
        assert shop.stock(4) == 10

    def test_the_provider_is_asked_for_the_quoted_total(self, shop, test_payments):
        lines = [LineRequest(shop.sku(0), 3), LineRequest(shop.sku(1), 2)]
        result = order_place(shop.users[0], key="k", lines=lines)

        assert [call["amount"] for call in test_payments.calls] == [Decimal("52.00")]
        assert result.body["total"] == "52.00"
        assert test_payments.calls[0]["order"] == result.body["number"]
        assert Order.objects.get().payment_reference == f"test-{result.body['number']}"

    def test_stock_gone_while_the_provider_answered_voids_the_payment_and_writes_nothing(
        self, shop, settings
    ):
        settings.PAYMENT_PROVIDER = "apps.orders.tests.test_services.StockTakingProvider"
        StockTakingProvider.voided = []
        before = _tables_snapshot()

        with pytest.raises(InsufficientStock) as error:
            order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 4)])

        assert error.value.items == [{"sku": "SKU-00", "requested": 4, "available": 0}]
        assert StockTakingProvider.voided == ["taken-stock"]
        # No order, no ledger row, no key: a retry may buy again.
        assert _tables_snapshot()[1:] == before[1:]

    def test_a_provider_outage_is_a_declined_payment_not_an_error(self, shop, settings):
        settings.PAYMENT_PROVIDER = "apps.orders.tests.test_services.ExplodingProvider"

        result = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 2)])

        assert result.status == 402
        assert shop.stock(0) == 10

    def test_a_key_claimed_while_the_provider_answered_voids_the_payment_and_replays(
        self, shop, settings
    ):
        settings.PAYMENT_PROVIDER = "apps.orders.tests.test_services.KeyTakingProvider"
        lines = [LineRequest(shop.sku(0), 2)]
        KeyTakingProvider.voided, KeyTakingProvider.twin = [], None
        KeyTakingProvider.buyer, KeyTakingProvider.lines = shop.users[0], lines

        result = order_place(shop.users[0], key="k", lines=lines)

        assert KeyTakingProvider.voided == ["first"]
        assert result == KeyTakingProvider.twin
        assert Order.objects.count() == 1 and shop.stock(0) == 8

    def test_the_same_key_and_body_replays_without_buying_twice(self, shop):
        lines = [LineRequest(shop.sku(0), 1), LineRequest(shop.sku(1), 2)]
        first = order_place(shop.users[0], key="k", lines=lines)
        again = order_place(shop.users[0], key="k", lines=list(reversed(lines)))

        assert again == first
        assert Order.objects.count() == 1 and shop.stock(1) == 8

    def test_the_same_key_with_another_body_is_refused(self, shop):
        order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 1)])

        with pytest.raises(IdempotencyKeyReused):
            order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 2)])
        assert shop.stock(0) == 9

    def test_keys_belong_to_one_user(self, shop):
        a = order_place(shop.users[0], key="same", lines=[LineRequest(shop.sku(0), 1)])
        b = order_place(shop.users[1], key="same", lines=[LineRequest(shop.sku(0), 1)])

        assert a.body["number"] != b.body["number"] and shop.stock(0) == 8

    def test_a_key_whose_first_request_has_not_finished_answers_in_flight(self, shop, settings):
        settings.IDEMPOTENCY_WAIT_SECONDS = 0.05
        # A first request that claimed the key and has not stored its response (yet).
        idempotency_claim(shop.users[0].pk, "stuck", request_fingerprint([["SKU-00", 1]]))

        with pytest.raises(IdempotencyKeyInFlight):
            order_place(shop.users[0], key="stuck", lines=[LineRequest(shop.sku(0), 1)])
        assert shop.stock(0) == 10

    def test_insufficient_stock_lists_every_short_line_and_writes_nothing(self, shop):
        before = _tables_snapshot()
        with pytest.raises(InsufficientStock) as error:
            order_place(
                shop.users[0],
                key="k",
                lines=[
                    LineRequest(shop.sku(0), 11),
                    LineRequest(shop.sku(1), 1),
                    LineRequest(shop.sku(2), 12),
                ],
            )
        assert error.value.items == [
            {"sku": "SKU-00", "requested": 11, "available": 10},
            {"sku": "SKU-02", "requested": 12, "available": 10},
        ]
        assert _tables_snapshot() == before

    def test_an_unknown_sku_is_refused_before_anything_is_written(self, shop):
        before = _tables_snapshot()
        with pytest.raises(UnknownSku) as error:
            order_place(
                shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 1), LineRequest("NOPE", 1)]
            )
        assert error.value.extra["skus"] == ["NOPE"]
        assert _tables_snapshot() == before

    def test_no_lines_buys_the_cart_and_empties_it(self, shop):
        buyer = shop.users[0]
        cart_line_add(buyer, sku=shop.sku(4), quantity=3)
        cart_line_add(buyer, sku=shop.sku(5), quantity=1)

        result = order_place(buyer, key="k", lines=None)

        assert [line["sku"] for line in result.body["lines"]] == ["SKU-04", "SKU-05"]
        assert not CartLine.objects.filter(cart__user=buyer).exists()
        assert shop.stock(4) == 7

    def test_an_empty_cart_and_no_lines_is_refused(self, shop):
        with pytest.raises(EmptyCheckout):
            order_place(shop.users[0], key="k", lines=None)

    def test_a_sale_refreshes_its_products_in_the_catalog_after_the_commit(
        self, shop, monkeypatch, django_capture_on_commit_callbacks
    ):
        refreshed = []
        monkeypatch.setattr(services, "catalog_invalidate", lambda **kw: refreshed.append(kw))
        with django_capture_on_commit_callbacks() as callbacks:
            order_place(
                shop.users[0],
                key="k",
                lines=[LineRequest(shop.sku(2), 1), LineRequest(shop.sku(0), 1)],
            )
        assert refreshed == []  # nothing before the commit
        for callback in callbacks:
            callback()
        slugs = sorted(shop.variants[i].product.slug for i in (0, 2))
        assert refreshed == [{"listing": False, "product_slugs": slugs}]


class TestOrderCancel:
    def test_it_returns_each_unit_to_the_warehouse_it_came_from(self, shop):
        placed = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 7)])
        Stock.objects.filter(variant=shop.variants[0], warehouse__code="main").update(quantity=4)

        cancelled = order_cancel(shop.users[0], number=placed.body["number"])

        assert cancelled["status"] == "cancelled"
        assert _quantities(shop, 0) == {"main": 9, "overflow": 5}

    def test_cancelling_twice_is_a_conflict_and_returns_nothing_more(self, shop):
        placed = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 3)])
        order_cancel(shop.users[0], number=placed.body["number"])

        with pytest.raises(InvalidTransition):
            order_cancel(shop.users[0], number=placed.body["number"])
        assert shop.stock(0) == 10

    def test_a_failed_payment_cannot_be_cancelled_into_a_second_return(self, shop, test_payments):
        test_payments.decline_next()
        placed = order_place(shop.users[0], key="k", lines=[LineRequest(shop.sku(0), 3)])

        with pytest.raises(InvalidTransition):
            order_cancel(shop.users[0], number=placed.body["order"]["number"])
        assert shop.stock(0) == 10


class ExplodingProvider:
    def authorize(self, **kwargs):
        raise ConnectionError("provider down")

    def void(self, *, reference):
        raise AssertionError("nothing to void")


class StockTakingProvider:
    """Authorize, while another buyer empties the stock of SKU-00."""

    voided: list[str] = []

    def authorize(self, *, order_number, amount, currency):
        Stock.objects.filter(variant__sku="SKU-00").update(quantity=0)
        return PaymentResult(ok=True, reference="taken-stock")

    def void(self, *, reference):
        self.voided.append(reference)


class KeyTakingProvider:
    """Authorize; while the first authorization runs, a twin request (same key, body) buys."""

    voided: list[str] = []
    twin = None
    buyer = None
    lines: list = []

    def authorize(self, *, order_number, amount, currency):
        cls = type(self)
        if cls.twin is not None:
            return PaymentResult(ok=True, reference="twin")
        cls.twin = "running"
        cls.twin = order_place(cls.buyer, key="k", lines=cls.lines)
        return PaymentResult(ok=True, reference="first")

    def void(self, *, reference):
        self.voided.append(reference)
