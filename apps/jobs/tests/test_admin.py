"""Jobs in the admin: adding one queues it through the services; list pages cost fixed queries."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import UserFactory
from apps.jobs.models import ImportJob, ReportJob
from apps.jobs.reports import report_job_create


@pytest.fixture
def admin_client(client, db, settings, tmp_path):
    settings.IMPORT_DIR = str(tmp_path / "imports")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_adding_an_import_uploads_the_file_and_queues_the_job(admin_client):
    data = SimpleUploadedFile("stock.csv", b"sku,warehouse,quantity\nSKU-00,main,5\n")

    response = admin_client.post("/admin/jobs/importjob/add/", {"kind": "stock", "file": data})

    assert response.status_code == 302, response.content[:2000]
    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.rows_total, job.file_name) == (
        "stock",
        "queued",
        1,
        "stock.csv",
    )


def test_adding_a_report_queues_it_and_a_reversed_period_is_refused(admin_client):
    period = {"first_day": "2026-11-01", "last_day": "2026-11-30", "format": "csv"}
    assert admin_client.post("/admin/jobs/reportjob/add/", period).status_code == 302

    reversed_period = {**period, "first_day": "2026-12-01"}
    response = admin_client.post("/admin/jobs/reportjob/add/", reversed_period)

    assert response.status_code == 200 and b"Must not be before" in response.content
    assert list(ReportJob.objects.values_list("first_day", "status")) == [
        (date(2026, 11, 1), "queued")
    ]


def test_running_reports_again_queues_new_jobs_for_the_same_periods(admin_client):
    user = UserFactory()
    first = report_job_create(
        user, first_day=date(2026, 1, 1), last_day=date(2026, 1, 31), format="csv"
    )

    response = admin_client.post(
        "/admin/jobs/reportjob/", {"action": "run_again", "_selected_action": [str(first.pk)]}
    )

    assert response.status_code == 302
    assert ReportJob.objects.filter(first_day=date(2026, 1, 1)).count() == 2


@pytest.mark.parametrize("path", ["/admin/jobs/importjob/", "/admin/jobs/reportjob/"])
def test_a_job_list_costs_the_same_queries_for_3_jobs_or_30(admin_client, path):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(path).status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for _ in range(count):
            user = UserFactory()  # a creator each: an N+1 on created_by would show
            ImportJob.objects.create(kind="stock", created_by=user, file_name="f.csv", path="/x")
            report_job_create(
                user, first_day=date(2026, 1, 1), last_day=date(2026, 1, 2), format="csv"
            )

    add(3)
    few = page_queries()
    add(27)
    assert page_queries() == few
