"""Import jobs: keep the upload on disk, run the commands' importers on the worker, report.

The worker runs the same importers as ``import_catalog``, ``import_stock`` and ``import_prices``
(``bulk_run``: batches that commit one by one, upserting), so a file imported twice writes each
row once. Progress (rows read) and a heartbeat go to the job's row about once a second. A job
whose worker died stays ``running`` without a heartbeat: ``import_jobs_reap`` marks it
``failed`` with what was committed, and so does its own task if it is ever delivered again.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.catalog.imports import CatalogImporter
from apps.catalog.price_imports import PriceImporter
from apps.core.background import task_send_on_commit
from apps.core.bulk.pipeline import DEFAULT_BATCH_SIZE, BatchFailed
from apps.core.bulk.reader import JSONL_SUFFIXES, RowReader, SourceError
from apps.core.bulk.report import ErrorReport
from apps.core.bulk.run import bulk_run
from apps.inventory.feeds import StockFeed
from apps.jobs.errors import EmptyUpload, ImportJobNotFound
from apps.jobs.models import ImportJob

IMPORTERS = {
    ImportJob.Kind.CATALOG: CatalogImporter,
    ImportJob.Kind.STOCK: StockFeed,
    ImportJob.Kind.PRICES: PriceImporter,
}
IMPORT_TASK = "apps.jobs.tasks.import_job_run"
PROGRESS_EVERY_SECONDS = 1.0
MAX_WRITERS = 2  # as the commands: a third writer gained nothing on 2 cores
Status = ImportJob.Status


def import_dir() -> Path:
    folder = Path(settings.IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def errors_path(job: ImportJob) -> Path:
    return import_dir() / f"{job.pk}.errors.csv"


def import_job_create(user, *, kind: str, upload) -> ImportJob:
    """Keep ``upload`` (already on disk) for the worker and queue its import; return the job."""
    job = ImportJob(kind=kind, created_by=user, file_name=upload.name[-255:])
    suffix = ".jsonl" if upload.name.lower().endswith(JSONL_SUFFIXES) else ".csv"
    target = import_dir() / f"{job.pk}{suffix}"
    if hasattr(upload, "temporary_file_path"):  # streamed to a temporary file: move it
        shutil.move(upload.temporary_file_path(), target)
    else:
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    rows = _lines(target) - (suffix == ".csv")
    if rows < 1:
        target.unlink(missing_ok=True)
        raise EmptyUpload(fields={"file": ["The file has no rows to import."]})
    job.path, job.rows_total = str(target), rows
    job.save()
    task_send_on_commit(IMPORT_TASK, str(job.pk))
    return job


def _lines(path: Path) -> int:
    """Count lines without holding the file: 1 MB at a time (a last line may lack its newline)."""
    count, last = 0, b"\n"
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def import_job_detail(job_id) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise ImportJobNotFound()
    return job


def import_job_run(job_id: str) -> None:
    """Run the import of a queued job; fail one found running without a heartbeat."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Status.DONE, Status.FAILED):
            return
        if job.status == Status.RUNNING:
            # Delivered again: its worker died (no heartbeat), or it still runs elsewhere (a
            # redelivery after the broker's visibility timeout), and is left to it.
            if job.heartbeat_at < _stale_cutoff():
                _finish(job, Status.FAILED, _stopped_message(job))
            return
        now = timezone.now()
        job.status, job.started_at, job.heartbeat_at = Status.RUNNING, now, now
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    importer = IMPORTERS[job.kind]()
    try:
        reader = RowReader(job.path, importer.columns)
        with ErrorReport(None, errors_path(job)) as report:
            summary = bulk_run(
                reader,
                importer,
                report=report,
                batch_size=settings.IMPORT_BATCH_SIZE
                or getattr(importer, "batch_size", DEFAULT_BATCH_SIZE),
                progress=_progress(job.pk),
                writers=max(1, min(MAX_WRITERS, os.cpu_count() or 1)),
            )
    except (BatchFailed, SourceError, DatabaseError) as error:
        job.refresh_from_db()
        _finish(job, Status.FAILED, f"{importer.name}: {error}")
        return
    job.rows_done, job.rows_rejected = summary.read, summary.rejected
    _finish(job, Status.DONE, summary.line())


def _progress(job_id):
    """A progress callback that writes rows read and a heartbeat about once a second."""
    lock = threading.Lock()  # parallel writers may report from their threads
    last = [0.0]

    def report(rows: int, _bytes: int) -> None:
        now = time.monotonic()
        with lock:
            if now - last[0] < PROGRESS_EVERY_SECONDS:
                return
            last[0] = now
        ImportJob.objects.filter(pk=job_id).update(rows_done=rows, heartbeat_at=timezone.now())

    return report


def _stopped_message(job: ImportJob) -> str:
    return (
        f"The worker stopped during the import, after about {job.rows_done:,} rows: the batches "
        "committed before are kept. Upload the file again to finish it; rows are upserted, so "
        "nothing is written twice."
    )


def _finish(job: ImportJob, status: str, message: str) -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    errors = errors_path(job)
    job.has_errors = errors.exists() and _lines(errors) > 1  # more than its header
    job.save()
    Path(job.path).unlink(missing_ok=True)  # the upload has served; the errors file stays


def _stale_cutoff():
    return timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)


def import_jobs_reap() -> int:
    """Fail the jobs whose worker stopped (no heartbeat for IMPORT_STALE_SECONDS); how many."""
    cutoff = _stale_cutoff()
    reaped = 0
    for job_id in ImportJob.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=Status.RUNNING, heartbeat_at__lt=cutoff)
                .first()
            )
            if job is not None:
                _finish(job, Status.FAILED, _stopped_message(job))
                reaped += 1
    return reaped
