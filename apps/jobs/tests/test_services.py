"""Jobs delivered twice or left by a dead worker, in process (the worker tests kill a real one)."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.jobs.models import ImportJob, ReportJob
from apps.jobs.reports import report_job_create, report_jobs_reap
from apps.jobs.services import import_job_create, import_job_run, import_jobs_reap

STOCK = b"sku,warehouse,quantity\nSKU-00,main,5\n"


@pytest.fixture
def job(db, settings, tmp_path) -> ImportJob:
    settings.IMPORT_DIR = str(tmp_path / "imports")
    settings.IMPORT_STALE_SECONDS = 60
    upload = SimpleUploadedFile("stock.csv", STOCK)
    return import_job_create(UserFactory(is_staff=True), kind="stock", upload=upload)


def running(job: ImportJob, heartbeat_seconds_ago: float) -> None:
    beat = timezone.now() - timedelta(seconds=heartbeat_seconds_ago)
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=beat)


def test_a_second_delivery_of_a_job_that_still_beats_leaves_it_running(job):
    running(job, heartbeat_seconds_ago=1)

    import_job_run(str(job.pk))

    job.refresh_from_db()
    assert job.status == "running" and job.message == ""


def test_a_delivery_of_a_job_whose_worker_stopped_beating_fails_it(job):
    running(job, heartbeat_seconds_ago=61)

    import_job_run(str(job.pk))

    job.refresh_from_db()
    assert job.status == "failed" and "stopped during the import" in job.message


def test_the_reaper_fails_only_the_jobs_without_a_heartbeat(job, settings):
    other = import_job_create(
        job.created_by, kind="stock", upload=SimpleUploadedFile("s.csv", STOCK)
    )
    running(job, heartbeat_seconds_ago=61)
    running(other, heartbeat_seconds_ago=1)

    assert import_jobs_reap() == 1

    assert ImportJob.objects.get(pk=job.pk).status == "failed"
    assert ImportJob.objects.get(pk=other.pk).status == "running"


def test_a_finished_job_delivered_again_is_left_as_it_is(job):
    ImportJob.objects.filter(pk=job.pk).update(status="done", message="1 row")

    import_job_run(str(job.pk))

    assert ImportJob.objects.get(pk=job.pk).message == "1 row"


def test_the_reaper_fails_a_report_running_past_its_time_limit_only(db, settings):
    settings.REPORT_TIME_LIMIT_SECONDS = 600
    user = UserFactory(is_staff=True)
    lost, busy = (
        report_job_create(user, first_day=date(2026, 1, 1), last_day=date(2026, 1, 2), format="csv")
        for _ in range(2)
    )
    now = timezone.now()
    ReportJob.objects.filter(pk=lost.pk).update(
        status="running", started_at=now - timedelta(hours=1)
    )
    ReportJob.objects.filter(pk=busy.pk).update(status="running", started_at=now)

    assert report_jobs_reap() == 1

    assert ReportJob.objects.get(pk=lost.pk).status == "failed"
    assert ReportJob.objects.get(pk=busy.pk).status == "running"
