"""Stock feeds: quantities set per warehouse, bad rows reported, and no sale lost to a race."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from apps.catalog.models import Product
from apps.core.bulk.reader import RowReader
from apps.core.bulk.report import ErrorReport
from apps.core.bulk.run import bulk_run
from apps.core.tests.commands import run_command
from apps.inventory.feeds import StockFeed, stock_feed_snapshot
from apps.inventory.models import Stock, StockMovement
from apps.inventory.selectors import stock_available
from apps.inventory.services import StockDemand, stock_allocate
from apps.inventory.tests.factories import StockFactory, WarehouseFactory


@pytest.fixture
def stocked(db):
    """12 variants with 5 units in eu-central (priority 1) and 7 in eu-west; us-east is empty."""
    central = WarehouseFactory(code="eu-central", priority=1)
    west = WarehouseFactory(code="eu-west", priority=2)
    WarehouseFactory(code="us-east", priority=3)
    variants = []
    for _ in range(12):
        row = StockFactory(warehouse=central, quantity=5)
        StockFactory(variant=row.variant, warehouse=west, quantity=7)
        variants.append(row.variant)
    return variants


def write_feed(path, lines: list[str]):
    path.write_text("sku,warehouse,quantity\n" + "".join(f"{line}\n" for line in lines))
    return path


def run_feed(path, batch_size: int = 4, **options):
    """Run import_stock; return (stdout, stderr, exit status)."""
    return run_command("import_stock", str(path), batch_size=str(batch_size), **options)


def levels(variant) -> dict[str, int]:
    return dict(Stock.objects.filter(variant=variant).values_list("warehouse__code", "quantity"))


@pytest.mark.django_db
def test_a_feed_sets_quantities_and_adds_missing_warehouse_rows(stocked, tmp_path):
    lines = [f"{v.sku},eu-central,{n}" for n, v in enumerate(stocked)]
    lines += [f"{v.sku},us-east,100" for v in stocked[:3]]

    out, err, status = run_feed(write_feed(tmp_path / "s.csv", lines))

    assert status == 0, err
    assert "15 rows read, 15 written, 0 rejected" in out
    assert levels(stocked[2]) == {"eu-central": 2, "eu-west": 7, "us-east": 100}
    assert levels(stocked[11]) == {"eu-central": 11, "eu-west": 7}
    available = stock_available(v.pk for v in stocked)
    assert available[stocked[0].pk] == 0 + 7 + 100
    assert available[stocked[5].pk] == 5 + 7


@pytest.mark.django_db
def test_in_stock_follows_a_feed_that_empties_or_refills_a_product(stocked, tmp_path):
    sold_out = [f"{stocked[0].sku},{code},0" for code in ("eu-central", "eu-west")]
    run_feed(write_feed(tmp_path / "s.csv", sold_out))
    assert Product.objects.get(variants=stocked[0]).in_stock is False

    run_feed(write_feed(tmp_path / "s.csv", [f"{stocked[0].sku},us-east,3"]))

    assert Product.objects.get(variants=stocked[0]).in_stock is True


@pytest.mark.django_db
def test_a_row_already_at_its_feed_quantity_is_neither_locked_nor_rewritten(stocked, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM inventory_stock")
        before = dict(cursor.fetchall())
    lines = [f"{v.sku},eu-central,5" for v in stocked] + [f"{stocked[3].sku},eu-west,1"]

    run_feed(write_feed(tmp_path / "s.csv", lines))

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM inventory_stock")
        touched = {pk for pk, xmin in cursor.fetchall() if before[pk] != xmin}
    assert touched == {Stock.objects.get(variant=stocked[3], warehouse__code="eu-west").pk}


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_the_valid_rows_of_their_batch_written(stocked, tmp_path):
    lines = [f"{v.sku},eu-west,{20 + n}" for n, v in enumerate(stocked)]  # lines 2..13
    bad = {
        3: ("warehouse", f"{stocked[1].sku},mars,1", "unknown warehouse 'mars'"),
        5: ("quantity", f"{stocked[3].sku},eu-west,-4", "must not be negative"),
        6: ("quantity", f"{stocked[4].sku},eu-west,2.5", "'2.5' is not a whole number"),
        8: ("sku", "NO-SUCH-SKU,eu-west,3", "unknown sku 'NO-SUCH-SKU'"),
        10: ("sku", f"{stocked[0].sku},eu-west,9", "duplicate sku"),
        11: ("", f"{stocked[9].sku},eu-west", "expected 3 fields, found 2"),
        12: ("quantity", f"{stocked[10].sku},eu-west,99999999999", "must be at most"),
    }
    for line, (_, text, _) in bad.items():
        lines[line - 2] = text
    errors_path = tmp_path / "errors.csv"

    out, _, status = run_feed(write_feed(tmp_path / "s.csv", lines), errors=str(errors_path))

    assert status == 1
    assert "12 rows read, 5 written, 7 rejected" in out
    reported = [row.split(",", 2) for row in errors_path.read_text().splitlines()[1:]]
    assert [(int(line), column) for line, column, _ in reported] == [
        (line, column) for line, (column, _, _) in bad.items()
    ]
    for line, _, reason in reported:
        assert bad[int(line)][2] in reason
    west = dict(
        Stock.objects.filter(warehouse__code="eu-west").values_list("variant_id", "quantity")
    )
    assert west[stocked[0].pk] == 20  # the first occurrence wins
    assert west[stocked[2].pk] == 22
    assert west[stocked[1].pk] == 7 and west[stocked[3].pk] == 7 and west[stocked[4].pk] == 7


@pytest.mark.django_db
def test_an_empty_or_headerless_feed_is_one_error_and_changes_nothing(stocked, tmp_path):
    *_, status = run_feed(write_feed(tmp_path / "s.csv", []))
    assert status == 0  # a header and no rows: nothing to do

    (tmp_path / "e.csv").write_text("")
    _, err, status = run_feed(tmp_path / "e.csv")
    assert status == 1
    assert "line 1: empty file" in err

    (tmp_path / "h.csv").write_text("sku,qty\nA,1\n")
    _, err, status = run_feed(tmp_path / "h.csv")
    assert status == 1
    assert "line 1: missing column(s): warehouse, quantity" in err
    assert set(Stock.objects.values_list("quantity", flat=True)) == {5, 7}


# --- races with checkouts ---------------------------------------------------------------------
def checkout(variant, units: int, order_id: int) -> None:
    """Buy ``units`` of ``variant`` the way the shop's checkout does, in a transaction."""
    with transaction.atomic():
        stock_allocate([StockDemand(variant.pk, variant.sku, units)], order_id=order_id)


def feed(path, batch_size: int, snapshot: str | None = None, after_batch=None):
    importer = StockFeed(snapshot)
    with ErrorReport(None) as report:
        return bulk_run(
            RowReader(path, importer.columns),
            importer,
            report=report,
            batch_size=batch_size,
            after_batch=after_batch,
        )


def in_thread(target, *args) -> threading.Thread:
    def run():
        try:
            target(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_sale_committed_before_the_feed_started_is_not_applied_again(stocked, tmp_path):
    checkout(stocked[0], 3, order_id=1)  # eu-central: 5 -> 2
    path = write_feed(tmp_path / "s.csv", [f"{v.sku},eu-central,40" for v in stocked])

    summary = feed(path, batch_size=4)

    assert summary.written == 12
    assert levels(stocked[0])["eu-central"] == 40
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_sale_committed_between_two_batches_is_kept(stocked, tmp_path):
    path = write_feed(tmp_path / "s.csv", [f"{v.sku},eu-central,40" for v in stocked])
    sold = []

    def sell_during_the_feed(written: int) -> None:
        if written == 4:  # batch 1 is done: one variant behind it, one ahead of it
            for variant, order_id in ((stocked[1], 1), (stocked[9], 2)):
                in_thread(checkout, variant, 3, order_id).join()
                sold.append(variant)

    summary = feed(path, batch_size=4, after_batch=sell_during_the_feed)

    assert summary.written == 12
    assert sold == [stocked[1], stocked[9]]
    assert levels(stocked[1])["eu-central"] == 37  # sold after its batch: plain decrement
    assert levels(stocked[9])["eu-central"] == 37  # sold before its batch: re-applied
    assert levels(stocked[5])["eu-central"] == 40
    assert stock_available([stocked[9].pk])[stocked[9].pk] == 37 + 7


@pytest.mark.django_db(transaction=True)
def test_a_sale_committing_while_the_feed_waits_for_its_row_lock_is_kept(stocked, tmp_path):
    path = write_feed(tmp_path / "s.csv", [f"{v.sku},eu-central,40" for v in stocked])
    locked, release = threading.Event(), threading.Event()

    def slow_checkout():
        with transaction.atomic():
            stock_allocate([StockDemand(stocked[6].pk, stocked[6].sku, 4)], order_id=3)
            locked.set()
            assert release.wait(10)

    buyer = in_thread(slow_checkout)
    assert locked.wait(10)
    snapshot = stock_feed_snapshot()  # the sale is still in flight: not in the snapshot
    results = []
    feeder = in_thread(lambda: results.append(feed(path, batch_size=12, snapshot=snapshot)))
    assert wait_for_lock_wait(), "the feed never waited for the checkout's row lock"
    release.set()
    buyer.join(10)
    feeder.join(10)

    assert results[0].written == 12
    assert levels(stocked[6])["eu-central"] == 36
    assert levels(stocked[7])["eu-central"] == 40


@pytest.mark.django_db(transaction=True)
def test_an_oversold_row_is_clamped_at_zero(stocked, tmp_path):
    path = write_feed(tmp_path / "s.csv", [f"{v.sku},eu-central,2" for v in stocked])
    snapshot = stock_feed_snapshot()
    checkout(stocked[0], 4, order_id=1)  # the file says 2 were left; the shop sold 4 meanwhile

    feed(path, batch_size=5, snapshot=snapshot)

    assert levels(stocked[0])["eu-central"] == 0
    assert levels(stocked[1])["eu-central"] == 2


def wait_for_lock_wait(timeout: float = 10) -> bool:
    """Whether some other session of this database starts waiting on a row lock in time."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False
