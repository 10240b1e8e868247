"""Staff import jobs: upload (streamed to disk), watch, download the rejected rows."""

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.schemas import error
from apps.jobs import reports, services
from apps.jobs.errors import ImportJobNotFound, ReportJobNotFound
from apps.jobs.serializers import (
    ImportInput,
    ImportJobSchema,
    ImportQueuedSchema,
    ReportJobSchema,
    SalesReportInput,
    job_payload,
    report_payload,
)

STAFF_ONLY = {
    401: error(401, "No or a wrong token."),
    403: error(403, 'Not a staff user (code "permission_denied").'),
}
JOB_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The job's `id`, as queued."
)


class ImportCreateView(APIView):
    permission_classes = (IsAdminUser,)
    parser_classes = (MultiPartParser,)

    def initialize_request(self, request, *args, **kwargs):
        # To disk as it arrives, whatever its size: never held whole in memory.
        request.upload_handlers = [TemporaryFileUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="imports_create",
        summary="Import a file (staff)",
        description=(
            "Uploads a catalog, stock or price file; the worker imports it with the same "
            "importers as the `import_*` commands (rows upserted in batches: a file imported "
            f"twice writes each row once). At most `IMPORT_MAX_BYTES` "
            f"({settings.IMPORT_MAX_BYTES:,} bytes by default); a larger body is a `413`."
        ),
        request={"multipart/form-data": ImportInput},
        responses={
            202: ImportQueuedSchema,
            400: error(
                400, 'No file, an empty file or an unknown kind (code "invalid", with "fields").'
            ),
            413: error(413, 'Larger than IMPORT_MAX_BYTES (code "request_too_large").'),
            415: error(415, "Not multipart/form-data."),
            **STAFF_ONLY,
        },
        tags=["imports"],
    )
    def post(self, request):
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        job = services.import_job_create(request.user, kind=given["kind"], upload=given["file"])
        url = request.build_absolute_uri(f"/api/v1/imports/{job.pk}/")
        return Response({"id": str(job.pk), "status": job.status, "url": url}, status=202)


class ImportDetailView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="imports_retrieve",
        summary="Watch an import job (staff)",
        description="Its status and progress (rows read so far, about once a second).",
        parameters=[JOB_ID],
        responses={200: ImportJobSchema, 404: error(404, "No such job."), **STAFF_ONLY},
        tags=["imports"],
    )
    def get(self, request, id):
        job = services.import_job_detail(id)
        return Response(job_payload(job, request.build_absolute_uri))


class ImportErrorsView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="imports_errors",
        summary="The rejected rows of an import job (staff)",
        description="CSV with the columns line, column, reason.",
        parameters=[JOB_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="line,column,reason"),
            404: error(404, "No such job, or it rejected no row."),
            **STAFF_ONLY,
        },
        tags=["imports"],
    )
    def get(self, request, id):
        job = services.import_job_detail(id)
        path = services.errors_path(job)
        if not job.has_errors or not path.exists():
            raise ImportJobNotFound("This job rejected no row.")
        return FileResponse(
            path.open("rb"), content_type="text/csv", filename=f"import-{job.pk}-errors.csv"
        )


class SalesReportCreateView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="reports_sales_create",
        summary="Write a sales report (staff)",
        description=(
            "The `sales_report` command's report (paid orders per day, per SKU and per "
            "currency) as a job on the worker; download it from the job once done."
        ),
        request=SalesReportInput,
        examples=[
            OpenApiExample(
                "November as CSV",
                {"from": "2026-11-01", "to": "2026-11-30", "format": "csv"},
                request_only=True,
            )
        ],
        responses={
            202: ImportQueuedSchema,
            400: error(
                400, 'Malformed dates, `to` before `from`, an unknown format (code "invalid").'
            ),
            **STAFF_ONLY,
        },
        tags=["imports"],
    )
    def post(self, request):
        data = SalesReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        job = reports.report_job_create(
            request.user, first_day=given["from"], last_day=given["to"], format=given["format"]
        )
        url = request.build_absolute_uri(f"/api/v1/reports/{job.pk}/")
        return Response({"id": str(job.pk), "status": job.status, "url": url}, status=202)


class ReportDetailView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="reports_retrieve",
        summary="Watch a report job (staff)",
        parameters=[JOB_ID],
        responses={200: ReportJobSchema, 404: error(404, "No such job."), **STAFF_ONLY},
        tags=["imports"],
    )
    def get(self, request, id):
        job = reports.report_job_detail(id)
        return Response(report_payload(job, request.build_absolute_uri))


class ReportDownloadView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="reports_download",
        summary="Download a finished report (staff)",
        parameters=[JOB_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV report."),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The JSON report."
            ),
            404: error(404, "No such job, or it is not done."),
            **STAFF_ONLY,
        },
        tags=["imports"],
    )
    def get(self, request, id):
        job = reports.report_job_detail(id)
        path = reports.report_path(job)
        if job.status != job.Status.DONE or not path.exists():
            raise ReportJobNotFound("This report is not done.")
        kind = "text/csv" if job.format == "csv" else "application/json"
        return FileResponse(path.open("rb"), content_type=kind, filename=path.name)
