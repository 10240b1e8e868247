"""Admin for staff jobs: adding one uploads a file or asks for a report, and queues it as a job.

A job's fields are the worker's to write: the change page only shows them. Adding goes through
the same services as the API, so a job from the admin and one from the API are the same thing.
"""

from django import forms
from django.contrib import admin, messages

from apps.jobs import reports, services
from apps.jobs.models import ImportJob, ReportJob
from apps.jobs.serializers import MAX_REPORT_DAYS

SHOWN = ("status", "message", "created_by", "created_at", "finished_at")


class ImportUploadForm(forms.ModelForm):
    file = forms.FileField(help_text="CSV (or JSONL for a catalog), with its header row.")

    class Meta:
        model = ImportJob
        fields = ("kind",)


class ReportForm(forms.ModelForm):
    class Meta:
        model = ReportJob
        fields = ("first_day", "last_day", "format")

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "Must not be before the first day.")
        elif first and last and (last - first).days >= MAX_REPORT_DAYS:
            self.add_error("last_day", f"At most {MAX_REPORT_DAYS} days at once.")
        return data


class JobAdmin(admin.ModelAdmin):
    """Read-only once queued; ``queue`` is what adding one does."""

    list_select_related = ("created_by",)
    list_filter = ("status",)
    show_full_result_count = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.add_form._meta.fields + self.add_extra if obj is None else self.shown

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.shown

    def save_model(self, request, obj, form, change):
        if not change:
            job = self.queue(request.user, form.cleaned_data)
            obj.__dict__.update(job.__dict__)  # the admin's messages and redirect use ``obj``

    def has_delete_permission(self, request, obj=None):
        return False  # the files beside a job outlive it


@admin.register(ImportJob)
class ImportJobAdmin(JobAdmin):
    add_form = ImportUploadForm
    add_extra = ("file",)
    list_display = ("created_at", "kind", "status", "file_name", "rows_total", "rows_done",
                    "rows_rejected", "created_by")  # fmt: skip
    list_filter = ("status", "kind")
    shown = ("kind", "file_name", "rows_total", "rows_done", "rows_rejected", *SHOWN)

    def queue(self, user, data):
        return services.import_job_create(user, kind=data["kind"], upload=data["file"])


@admin.register(ReportJob)
class ReportJobAdmin(JobAdmin):
    add_form = ReportForm
    add_extra = ()
    list_display = ("created_at", "first_day", "last_day", "format", "status", "rows",
                    "created_by")  # fmt: skip
    shown = ("first_day", "last_day", "format", "rows", *SHOWN)
    actions = ("run_again",)

    def queue(self, user, data):
        return reports.report_job_create(
            user, first_day=data["first_day"], last_day=data["last_day"], format=data["format"]
        )

    @admin.action(description="Run the selected reports again (as new jobs)")
    def run_again(self, request, queryset):
        periods = queryset.values_list("first_day", "last_day", "format")
        for first_day, last_day, format in periods:
            reports.report_job_create(
                request.user, first_day=first_day, last_day=last_day, format=format
            )
        self.message_user(request, f"{len(periods)} report jobs queued.", messages.SUCCESS)
