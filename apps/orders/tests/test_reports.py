"""The sales report: paid orders only, per day and per SKU, one query whatever the period."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.tests.factories import UserFactory
from apps.orders.models import Order, OrderLine
from apps.orders.reports import sales_rows

DAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def sold(day_offset: int, lines: list[tuple[str, int, str]], *, status="paid", currency="EUR"):
    """An order placed ``day_offset`` days after DAY, with (sku, quantity, unit price) lines."""
    total = sum(Decimal(price) * quantity for _sku, quantity, price in lines)
    order = Order.objects.create(user=UserFactory(), status=status, currency=currency, total=total)
    Order.objects.filter(pk=order.pk).update(created_at=DAY + timedelta(days=day_offset))
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=sku, name=sku, quantity=quantity, unit_price=Decimal(price),
                  line_total=Decimal(price) * quantity)
        for sku, quantity, price in lines
    )  # fmt: skip
    return order


@pytest.fixture
def sales(db):
    sold(0, [("A", 2, "10.00"), ("B", 1, "5.50")])
    sold(0, [("A", 1, "10.00")], status="fulfilled")
    sold(1, [("B", 4, "5.50")])
    sold(3, [("A", 1, "10.00")])
    for status in ("pending_payment", "payment_failed", "expired", "cancelled", "placed"):
        sold(1, [("A", 9, "10.00")], status=status)  # no sale
    sold(1, [("C", 1, "7.00")], currency="USD")
    sold(9, [("A", 5, "10.00")])  # after the period


def report(fmt: str, first="2026-11-01", last="2026-11-05") -> str:
    out = io.StringIO()
    call_command("sales_report", "--from", first, "--to", last, "--format", fmt, stdout=out)
    return out.getvalue()


def test_each_day_sku_and_currency_sums_the_paid_orders_only(sales):
    rows = [(r.kind, r.day, r.sku, r.currency, r.orders, r.units, r.revenue)
            for r in sales_rows(date(2026, 11, 1), date(2026, 11, 5))]  # fmt: skip

    assert rows == [
        ("day", date(2026, 11, 2), None, "EUR", 2, 4, "35.50"),
        ("day", date(2026, 11, 3), None, "EUR", 1, 4, "22.00"),
        ("day", date(2026, 11, 3), None, "USD", 1, 1, "7.00"),
        ("day", date(2026, 11, 5), None, "EUR", 1, 1, "10.00"),
        ("sku", None, "A", "EUR", 3, 4, "40.00"),
        ("sku", None, "B", "EUR", 2, 5, "27.50"),
        ("sku", None, "C", "USD", 1, 1, "7.00"),
        ("total", None, None, "EUR", 4, 9, "67.50"),
        ("total", None, None, "USD", 1, 1, "7.00"),
    ]


def test_the_csv_has_a_header_and_one_line_per_row(sales):
    lines = list(csv.reader(io.StringIO(report("csv"))))

    assert lines[0] == ["kind", "day", "sku", "currency", "orders", "units", "revenue"]
    assert lines[1] == ["day", "2026-11-02", "", "EUR", "2", "4", "35.50"]
    assert lines[-1] == ["total", "", "", "USD", "1", "1", "7.00"]
    assert len(lines) == 10


def test_the_json_has_days_skus_and_totals(sales):
    data = json.loads(report("json"))

    assert data["from"] == "2026-11-01" and data["to"] == "2026-11-05"
    assert [d["day"] for d in data["days"]] == [
        "2026-11-02", "2026-11-03", "2026-11-03", "2026-11-05"
    ]  # fmt: skip
    assert data["skus"][0] == {"day": None, "sku": "A", "currency": "EUR", "orders": 3,
                               "units": 4, "revenue": "40.00"}  # fmt: skip
    assert [t["revenue"] for t in data["totals"]] == ["67.50", "7.00"]


def test_a_period_without_sales_is_an_empty_report(sales):
    assert json.loads(report("json", "2025-01-01", "2025-01-31")) == {
        "from": "2025-01-01", "to": "2025-01-31", "days": [], "skus": [], "totals": []
    }  # fmt: skip
    assert report("csv", "2025-01-01", "2025-01-31").splitlines() == [
        "kind,day,sku,currency,orders,units,revenue"
    ]


@pytest.mark.parametrize("days", [1, 31, 365])
def test_the_report_costs_one_query_whatever_the_period(sales, django_assert_num_queries, days):
    last = (date(2026, 11, 1) + timedelta(days=days - 1)).isoformat()
    with django_assert_num_queries(1):
        report("csv", "2026-11-01", last)


def test_the_report_can_go_to_a_file(sales, tmp_path):
    target = tmp_path / "sales.csv"
    err = io.StringIO()
    call_command(
        "sales_report", "--from", "2026-11-01", "--to", "2026-11-05", "--output", str(target),
        stderr=err,
    )  # fmt: skip

    assert target.read_text().count("\n") == 10
    assert "9 rows written" in err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-01"], "--from must be a date"),
        (["--from", "2026-12-01", "--to", "yesterday"], "--to must be a date"),
        (["--from", "2026-12-02", "--to", "2026-12-01"], "is before --from"),
        (["--from", "2000-01-01", "--to", "2026-12-01"], "at most"),
        (["--from", "2026-12-01", "--to", "2026-12-01", "--format", "xml"], "csv or json"),
        (["--from", "2026-12-01", "--to", "2026-12-01", "--output", "/no/such/dir/x"], "cannot"),
    ],
)
def test_bad_arguments_are_a_clear_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sales_report", *args)
