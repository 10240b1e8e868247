"""Background tasks of staff jobs: thin wrappers over services."""

from django.conf import settings

from apps.jobs import reports, services
from config.celery import app


# A million rows take minutes: the default limits are for short tasks.
@app.task(
    soft_time_limit=settings.IMPORT_TIME_LIMIT_SECONDS,
    time_limit=settings.IMPORT_TIME_LIMIT_SECONDS + 60,
)
def import_job_run(job_id: str) -> None:
    """Import a queued job's file (not retried: a failure is the job's answer)."""
    services.import_job_run(job_id)


@app.task
def jobs_reap() -> int:
    """Fail the import and report jobs whose worker stopped."""
    return services.import_jobs_reap() + reports.report_jobs_reap()


@app.task(
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=settings.REPORT_TIME_LIMIT_SECONDS,
    time_limit=settings.REPORT_TIME_LIMIT_SECONDS + 30,
)
def report_job_run(job_id: str) -> None:
    """Write a queued sales report (idempotent: a rerun writes the same file)."""
    reports.report_job_run(job_id)
