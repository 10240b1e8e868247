"""Import jobs end to end with a real worker: progress, rejected rows, a worker killed mid-job."""

import csv
import io
import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Variant
from apps.inventory.models import Stock
from apps.orders.tests.shops import shop_build
from tests.live_server import wait_until
from tests.worker import worker_running

HEADER = "sku,product_slug,product_name,category_slug,variant_name,price,currency,description,tags"


def catalog_file(rows: int, *, bad_line: int | None = None) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        price = "abc" if i + 2 == bad_line else f"{1 + i % 50}.99"
        lines.append(f"JOB-{i:07d},job-{i // 3:07d},Job product {i // 3},jobs,Size {i % 3},"
                     f"{price},EUR,Made for the job,big|new")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def staff(transactional_db, settings, tmp_path):
    settings.IMPORT_DIR = str(tmp_path / "imports")
    client = APIClient()
    token = Token.objects.create(user=UserFactory(is_staff=True))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def upload(client, data: bytes, kind: str, name: str = "file.csv") -> str:
    response = client.post(
        "/api/v1/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data)}
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def job_of(client, job_id: str) -> dict:
    return client.get(f"/api/v1/imports/{job_id}/").json()


def finished(client, job_id: str, timeout: float = 60) -> dict:
    assert wait_until(lambda: job_of(client, job_id)["status"] in ("done", "failed"), timeout)
    return job_of(client, job_id)


def test_each_kind_of_file_is_imported_by_the_worker_with_its_rejected_rows(staff, settings):
    shop = shop_build(skus=3)
    with worker_running(IMPORT_DIR=settings.IMPORT_DIR) as worker:
        catalog = finished(staff, upload(staff, catalog_file(30, bad_line=5), "catalog"))
        stock = b"sku,warehouse,quantity\nSKU-00,main,40\nSKU-01,nowhere,1\n"
        stocked = finished(staff, upload(staff, stock, "stock"))
        prices = b"sku,price\nSKU-02,12.34\n"
        priced = finished(staff, upload(staff, prices, "prices"))

    assert catalog["status"] == "done", worker.log
    assert (catalog["rows_total"], catalog["rows_done"], catalog["rows_rejected"]) == (30, 30, 1)
    assert Variant.objects.filter(sku__startswith="JOB-").count() == 29
    errors = staff.get(catalog["errors_url"].removeprefix("http://testserver"))
    assert errors.status_code == 200 and errors["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(errors.streaming_content).decode())))
    assert rows[0] == ["line", "column", "reason"]
    assert rows[1][:2] == ["5", "price"] and rows[1][2]
    assert stocked["status"] == "done" and stocked["rows_rejected"] == 1
    assert Stock.objects.get(variant=shop.variants[0], warehouse__code="main").quantity == 40
    assert priced["status"] == "done" and priced["errors_url"] is None
    shop.variants[2].refresh_from_db()
    assert str(shop.variants[2].price) == "12.34"


def test_a_worker_killed_mid_import_leaves_the_job_failed_and_a_retry_writes_each_row_once(
    staff, settings
):
    rows = 100_000
    data = catalog_file(rows)
    env = {
        "IMPORT_DIR": settings.IMPORT_DIR,
        "IMPORT_BATCH_SIZE": "500",  # 200 commits: a kill lands between two of them
        "IMPORT_STALE_SECONDS": "2",
        "IMPORT_REAP_INTERVAL_SECONDS": "0.5",
    }
    with worker_running(**env) as worker:
        job_id = upload(staff, data, "catalog")
        assert wait_until(lambda: job_of(staff, job_id)["rows_done"] > 0, 60), worker.log
        written = Variant.objects.filter(sku__startswith="JOB-")
        assert wait_until(lambda: written.count() > 0, 60), worker.log  # a batch committed
        os.killpg(worker.process.pid, signal.SIGKILL)  # the worker, its children, its beat
        worker.process.wait()
        committed = Variant.objects.filter(sku__startswith="JOB-").count()
    assert 0 < committed < rows

    with worker_running(**env):
        failed = finished(staff, job_id, timeout=30)
        assert failed["status"] == "failed"
        assert "stopped during the import" in failed["message"]
        time.sleep(0.5)
        assert Variant.objects.filter(sku__startswith="JOB-").count() == committed

        retried = finished(staff, upload(staff, data, "catalog"), timeout=120)

    assert retried["status"] == "done" and retried["rows_rejected"] == 0
    assert Variant.objects.filter(sku__startswith="JOB-").count() == rows
