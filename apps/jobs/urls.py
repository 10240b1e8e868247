from django.urls import path

from apps.jobs.views import (
    ImportCreateView,
    ImportDetailView,
    ImportErrorsView,
    ReportDetailView,
    ReportDownloadView,
    SalesReportCreateView,
)

urlpatterns = [
    path("imports/", ImportCreateView.as_view(), name="imports-create"),
    path("imports/<uuid:id>/", ImportDetailView.as_view(), name="imports-detail"),
    path("imports/<uuid:id>/errors/", ImportErrorsView.as_view(), name="imports-errors"),
    path("reports/sales/", SalesReportCreateView.as_view(), name="reports-sales"),
    path("reports/<uuid:id>/", ReportDetailView.as_view(), name="reports-detail"),
    path("reports/<uuid:id>/download/", ReportDownloadView.as_view(), name="reports-download"),
]
