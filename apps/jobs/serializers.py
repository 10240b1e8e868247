"""Import job input (never writes) and the documented answers."""

from rest_framework import serializers

from apps.jobs.models import ImportJob, ReportJob


class ImportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportJob.Kind.values)
    file = serializers.FileField(
        help_text="CSV (a header line, then one row per line) or JSONL (`.jsonl`, one object "
        "per line), with the columns of the matching command (docs/imports.md).",
        allow_empty_file=False,
    )


class ImportQueuedSchema(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ImportJob.Status.values)
    url = serializers.URLField(help_text="Where to watch the job.")


class ImportJobSchema(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ImportJob.Kind.values)
    status = serializers.ChoiceField(choices=ImportJob.Status.values)
    rows_total = serializers.IntegerField(allow_null=True, help_text="Rows in the file.")
    rows_done = serializers.IntegerField(help_text="Rows read so far (all of them when done).")
    rows_rejected = serializers.IntegerField()
    errors_url = serializers.URLField(
        allow_null=True, help_text="A CSV of the rejected rows (line, column, reason), if any."
    )
    message = serializers.CharField(help_text="The summary, or why the job failed.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def job_payload(job: ImportJob, build_uri) -> dict:
    errors = f"/api/v1/imports/{job.pk}/errors/" if job.has_errors else None
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_rejected": job.rows_rejected,
        "errors_url": build_uri(errors) if errors else None,
        "message": job.message,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at) if job.finished_at else None,
    }


MAX_REPORT_DAYS = 3660


def _report_validate(self, data: dict) -> dict:
    if data["to"] < data["from"]:
        raise serializers.ValidationError({"to": ["Must not be before from."]})
    if (data["to"] - data["from"]).days >= MAX_REPORT_DAYS:
        raise serializers.ValidationError({"to": [f"At most {MAX_REPORT_DAYS} days at once."]})
    return data


# "from" is a Python keyword: the fields are given by name.
SalesReportInput = type(
    "SalesReportInput",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(help_text="First day (UTC), YYYY-MM-DD."),
        "to": serializers.DateField(help_text="Last day (UTC, inclusive), YYYY-MM-DD."),
        "format": serializers.ChoiceField(choices=ReportJob.Format.values, default="csv"),
        "validate": _report_validate,
    },
)

ReportJobSchema = type(
    "ReportJobSchema",
    (serializers.Serializer,),
    {
        "id": serializers.UUIDField(),
        "status": serializers.ChoiceField(choices=ReportJob.Status.values),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "format": serializers.ChoiceField(choices=ReportJob.Format.values),
        "rows": serializers.IntegerField(allow_null=True),
        "download_url": serializers.URLField(allow_null=True, help_text="Once done."),
        "message": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True),
    },
)


def report_payload(job: ReportJob, build_uri) -> dict:
    done = job.status == ReportJob.Status.DONE
    return {
        "id": str(job.pk),
        "status": job.status,
        "from": job.first_day.isoformat(),
        "to": job.last_day.isoformat(),
        "format": job.format,
        "rows": job.rows,
        "download_url": build_uri(f"/api/v1/reports/{job.pk}/download/") if done else None,
        "message": job.message,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at) if job.finished_at else None,
    }


def _iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")
