"""Deferred payments in process: the 202 checkout, the signed webhook, and what it refuses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import StockMovement
from apps.orders.models import Order
from apps.orders.services import ORDER_CONFIRMATIONS_TASK, PAYMENTS_VOID_TASK
from apps.orders.tests.shops import api_for
from apps.payments.models import PaymentEvent
from apps.payments.tests.conftest import checkout, event, webhook

pytestmark = pytest.mark.usefixtures("deferred")


def sent_tasks(callbacks) -> list[str]:
    """The task names queued by on-commit callbacks (``task_wake_on_commit``)."""
    return [cb.args[0] for cb in callbacks if getattr(cb, "args", None)]


def pending_order(shop, quantity: int = 2, user: int = 0) -> Order:
    response = checkout(shop.users[user], [(shop.sku(0), quantity)])
    assert response.status_code == 202, response.content
    return Order.objects.get(number=response.json()["number"])


class TestDeferredCheckout:
    def test_a_deferred_checkout_answers_202_pending_with_its_expiry_and_holds_the_units(
        self, shop
    ):
        before = timezone.now()
        response = checkout(shop.users[0], [(shop.sku(0), 3)], key="k1")

        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "pending_payment"
        expires_at = Order.objects.get(number=body["number"]).expires_at
        assert body["expires_at"] == expires_at.isoformat().replace("+00:00", "Z")
        assert (
            before + timedelta(seconds=899) < expires_at < timezone.now() + timedelta(seconds=901)
        )
        assert shop.stock(0) == 10 - 3

    def test_the_same_key_replays_the_202_and_holds_the_units_once(self, shop):
        first = checkout(shop.users[0], [(shop.sku(0), 3)], key="same")
        again = checkout(shop.users[0], [(shop.sku(0), 3)], key="same")

        assert again.status_code == 202 and again.json() == first.json()
        assert shop.stock(0) == 7 and Order.objects.count() == 1

    def test_the_order_shows_pending_payment_to_its_buyer(self, shop):
        order = pending_order(shop)

        shown = api_for(shop.users[0]).get(f"/api/v1/orders/{order.number}/").json()

        assert shown["status"] == "pending_payment" and shown["expires_at"]


class TestOutcomes:
    def test_succeeded_makes_the_order_paid_and_queues_its_confirmation(
        self, shop, django_capture_on_commit_callbacks
    ):
        order = pending_order(shop)

        with django_capture_on_commit_callbacks() as callbacks:
            response = webhook(event(order.number, "succeeded", "evt-1"))

        assert response.status_code == 200
        assert response.json() == {
            "event_id": "evt-1",
            "order_number": order.number,
            "status": "paid",
            "result": "applied",
        }
        order.refresh_from_db()
        assert order.status == "paid" and order.email_due
        assert shop.stock(0) == 8  # the held units are the sold ones
        assert sent_tasks(callbacks) == [ORDER_CONFIRMATIONS_TASK]

    def test_failed_returns_the_units_once(self, shop):
        order = pending_order(shop, quantity=4)

        response = webhook(event(order.number, "failed"))

        assert response.json()["status"] == "payment_failed"
        assert shop.stock(0) == 10
        returns = StockMovement.objects.filter(order_id=order.pk, reason="payment_failed")
        assert sum(returns.values_list("delta", flat=True)) == 4

    def test_the_same_event_again_is_a_200_that_changes_nothing(self, shop):
        order = pending_order(shop)
        webhook(event(order.number, "failed", "evt-twice"))

        again = webhook(event(order.number, "failed", "evt-twice"))

        assert again.status_code == 200
        assert again.json()["result"] == "duplicate"
        assert again.json()["status"] == "payment_failed"
        assert shop.stock(0) == 10  # returned once, not twice
        assert PaymentEvent.objects.count() == 1

    def test_a_settled_order_never_changes_again(self, shop):
        order = pending_order(shop)
        webhook(event(order.number, "succeeded"))

        late_failure = webhook(event(order.number, "failed"))

        assert late_failure.json()["result"] == "ignored"
        order.refresh_from_db()
        assert order.status == "paid" and shop.stock(0) == 8

    def test_a_success_after_a_failure_is_voided_and_recorded(
        self, shop, django_capture_on_commit_callbacks
    ):
        order = pending_order(shop)
        webhook(event(order.number, "failed"))

        with django_capture_on_commit_callbacks() as callbacks:
            late = webhook(event(order.number, "succeeded", "evt-late"))

        assert late.json()["result"] == "voided"
        assert late.json()["status"] == "payment_failed"
        assert PAYMENTS_VOID_TASK in sent_tasks(callbacks)
        assert Order.objects.get(pk=order.pk).void_due
        assert PaymentEvent.objects.get(event_id="evt-late").result == "voided"
        assert shop.stock(0) == 10

    def test_a_success_past_expires_at_expires_the_order_and_voids_the_payment(
        self, shop, django_capture_on_commit_callbacks
    ):
        order = pending_order(shop, quantity=3)
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

        with django_capture_on_commit_callbacks() as callbacks:
            late = webhook(event(order.number, "succeeded"))

        assert late.json()["status"] == "expired" and late.json()["result"] == "voided"
        assert shop.stock(0) == 10
        assert PAYMENTS_VOID_TASK in sent_tasks(callbacks)
        assert Order.objects.get(pk=order.pk).void_due

    def test_out_of_order_events_settle_on_the_first_that_arrives(self, shop):
        order = pending_order(shop)

        results = [
            webhook(event(order.number, outcome)).json()["result"]
            for outcome in ("succeeded", "failed", "succeeded")
        ]

        assert results == ["applied", "ignored", "ignored"]
        order.refresh_from_db()
        assert order.status == "paid"

    def test_cancelling_a_pending_order_returns_its_units_and_voids_its_payment(
        self, shop, django_capture_on_commit_callbacks
    ):
        order = pending_order(shop)

        with django_capture_on_commit_callbacks() as callbacks:
            response = api_for(shop.users[0]).post(f"/api/v1/orders/{order.number}/cancel/")

        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert shop.stock(0) == 10
        assert PAYMENTS_VOID_TASK in sent_tasks(callbacks)
        assert Order.objects.get(pk=order.pk).void_due
        assert webhook(event(order.number, "succeeded")).json()["result"] == "voided"

    def test_a_paid_order_is_never_marked_for_a_void(self, shop):
        order = pending_order(shop)

        webhook(event(order.number, "succeeded"))
        again = webhook(event(order.number, "succeeded"))

        assert again.json()["result"] == "ignored"
        assert not Order.objects.get(pk=order.pk).void_due


class TestBadInput:
    @pytest.mark.parametrize(
        "signature",
        [None, "", "sha256=", "sha256=" + "0" * 64, "md5=abc", "sha256=" + "g" * 64],
    )
    def test_a_missing_or_wrong_signature_is_a_400_that_changes_nothing(self, shop, signature):
        order = pending_order(shop)

        response = webhook(event(order.number, "failed"), signature=signature)

        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
        order.refresh_from_db()
        assert order.status == "pending_payment" and shop.stock(0) == 8
        assert not PaymentEvent.objects.exists()

    def test_a_body_signed_with_another_secret_is_refused(self, shop):
        from apps.payments.tests.conftest import signed

        order = pending_order(shop)
        _body, other = signed(event(order.number), secret="another-secret-0123456789")

        assert webhook(event(order.number), signature=other).status_code == 400

    @pytest.mark.parametrize(
        ("payload", "fields"),
        [
            ({"order_number": "X", "outcome": "failed"}, {"event_id"}),
            ({"event_id": "e", "outcome": "failed"}, {"order_number"}),
            ({"event_id": "e", "order_number": "ABC"}, {"outcome"}),
            ({"event_id": "e", "order_number": "ABC", "outcome": "maybe"}, {"outcome"}),
            ({"event_id": "e\x00", "order_number": "ABC", "outcome": "failed"}, {"event_id"}),
            ({"event_id": "e", "order_number": "A\x00B", "outcome": "failed"}, {"order_number"}),
            ({"event_id": "e" * 101, "order_number": "ABC", "outcome": "failed"}, {"event_id"}),
            ({"event_id": 7, "order_number": ["ABC"], "outcome": None}, None),
        ],
    )
    def test_a_malformed_body_is_a_400_naming_its_fields(self, shop, payload, fields):
        response = webhook(payload)

        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        if fields is not None:
            assert set(response.json()["fields"]) == fields
        assert not PaymentEvent.objects.exists()

    @pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
    def test_a_signed_body_that_is_not_a_json_object_is_a_400(self, shop, raw):
        response = webhook(raw)

        assert response.status_code == 400 and response.json()["code"] == "invalid"

    def test_an_unknown_order_is_a_404_and_nothing_is_recorded(self, shop):
        response = webhook(event("NOSUCHORDER1"))

        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert not PaymentEvent.objects.exists()

    def test_an_instant_order_settled_at_checkout_ignores_a_late_event(self, shop, settings):
        settings.PAYMENT_PROVIDER = "instant"
        paid = checkout(shop.users[0], [(shop.sku(0), 1)]).json()

        response = webhook(event(paid["number"], "failed"))

        assert response.json() == {**response.json(), "status": "paid", "result": "ignored"}
        assert shop.stock(0) == 9
