"""Staff jobs that run on the worker: imports of an uploaded file, with their progress."""

import uuid

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One uploaded file imported by the worker with the importer of its ``kind``."""

    class Kind(models.TextChoices):
        CATALOG = "catalog"
        STOCK = "stock"
        PRICES = "prices"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=255)  # as uploaded, for people
    path = models.CharField(max_length=500)  # where the upload is kept, for the worker
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    has_errors = models.BooleanField(default=False)
    message = models.TextField(blank=True, default="")  # why it failed, or its summary
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Bumped with the progress while it runs: a job whose worker died stops bumping it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["heartbeat_at"],
                name="importjob_running_idx",
                condition=models.Q(status="running"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.id} ({self.status})"


class ReportJob(models.Model):
    """A sales report written by the worker to a file, downloaded when done."""

    class Format(models.TextChoices):
        CSV = "csv"
        JSON = "json"

    Status = ImportJob.Status

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=10, choices=ImportJob.Status.choices, default=ImportJob.Status.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    rows = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # A report past REPORT_TIME_LIMIT_SECONDS since this was killed by its worker, or lost with it.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sales report {self.first_day}..{self.last_day} ({self.status})"
