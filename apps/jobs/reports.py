"""Sales reports as staff jobs: the ``sales_report`` command's rows, written by the worker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.core.background import task_send_on_commit
from apps.jobs.errors import ReportJobNotFound
from apps.jobs.models import ReportJob
from apps.jobs.services import import_dir
from apps.orders.reports import csv_write, json_write, sales_rows

REPORT_TASK = "apps.jobs.tasks.report_job_run"
REAP_GRACE = 60  # seconds past the limit: the worker's own hard limit has struck by then
Status = ReportJob.Status


def report_path(job: ReportJob) -> Path:
    return import_dir() / f"{job.pk}.sales.{job.format}"


def report_job_create(user, *, first_day, last_day, format: str) -> ReportJob:
    job = ReportJob.objects.create(
        created_by=user, first_day=first_day, last_day=last_day, format=format
    )
    task_send_on_commit(REPORT_TASK, str(job.pk))
    return job


def report_job_detail(job_id) -> ReportJob:
    job = ReportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise ReportJobNotFound()
    return job


def report_job_run(job_id: str) -> None:
    """Write the report of a queued job; a job found running again had its worker die."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Status.DONE, Status.FAILED):
            return
        if job.status == Status.RUNNING:  # the worker that wrote it died: write it afresh
            report_path(job).unlink(missing_ok=True)
        job.status, job.started_at = Status.RUNNING, timezone.now()
        job.save(update_fields=["status", "started_at"])
    path = report_path(job)
    partial = path.with_suffix(path.suffix + ".part")
    try:
        with partial.open("w", newline="", encoding="utf-8") as out:
            rows = sales_rows(job.first_day, job.last_day)
            if job.format == ReportJob.Format.CSV:
                count = csv_write(rows, out, lambda row: None)
            else:
                period = {"from": job.first_day.isoformat(), "to": job.last_day.isoformat()}
                count = json_write(rows, out, lambda row: None, period)
        partial.replace(path)  # whole or absent: a download never sees half a report
    except (DatabaseError, OSError) as error:
        partial.unlink(missing_ok=True)
        _finish(job, Status.FAILED, str(error))
        return
    job.rows = count
    _finish(job, Status.DONE, f"{count} rows")


def _finish(job: ReportJob, status: str, message: str) -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    job.save()


def report_jobs_reap() -> int:
    """Fail the reports still running past their time limit: their worker is gone; how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.REPORT_TIME_LIMIT_SECONDS + REAP_GRACE)
    lost = ReportJob.objects.filter(status=Status.RUNNING, started_at__lt=cutoff)
    return lost.update(
        status=Status.FAILED,
        message="The worker stopped while writing the report: ask for it again.",
        finished_at=timezone.now(),
    )
