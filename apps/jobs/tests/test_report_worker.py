"""A sales report asked over the API and written by a real worker, then downloaded."""

import json

from django.utils import timezone

from apps.jobs.tests.test_import_worker import staff  # noqa: F401  (the fixture)
from apps.orders.tests.shops import api_for, shop_build
from tests.live_server import wait_until
from tests.worker import worker_running


def test_the_worker_writes_the_report_of_the_paid_orders_and_staff_download_it(
    staff,  # noqa: F811
    settings,
):
    shop = shop_build(skus=2)
    for i, quantity in enumerate((1, 2, 3)):
        response = api_for(shop.users[i]).post(
            "/api/v1/checkout/",
            {"lines": [{"sku": shop.sku(i % 2), "quantity": quantity}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"report-{i}",
        )
        assert response.status_code == 201, response.content
    today = timezone.now().date().isoformat()

    with worker_running(IMPORT_DIR=settings.IMPORT_DIR) as worker:
        asked = staff.post(
            "/api/v1/reports/sales/", {"from": today, "to": today, "format": "json"}, format="json"
        )
        assert asked.status_code == 202
        url = f"/api/v1/reports/{asked.json()['id']}/"
        assert wait_until(lambda: staff.get(url).json()["status"] == "done", 60), worker.log

    shown = staff.get(url).json()
    download = staff.get(shown["download_url"].removeprefix("http://testserver"))
    assert download.status_code == 200, download.content
    report = json.loads(b"".join(download.streaming_content))
    assert [(d["day"], d["orders"], d["units"]) for d in report["days"]] == [(today, 3, 6)]
    assert {s["sku"]: s["units"] for s in report["skus"]} == {shop.sku(0): 4, shop.sku(1): 2}
