from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apps.core.views import HealthzView, ReadyzView, csp_report, metrics

handler400 = "apps.core.exceptions.bad_request"
handler403 = "apps.core.exceptions.permission_denied"
handler404 = "apps.core.exceptions.page_not_found"
handler500 = "apps.core.exceptions.server_error"

urlpatterns = [
    path("healthz", HealthzView.as_view(), name="healthz"),
    path("readyz", ReadyzView.as_view(), name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("csp-report", csp_report, name="csp-report"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, which the
    # Content-Security-Policy forbids.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include("apps.catalog.urls")),
    path("api/v1/", include("apps.accounts.urls")),
    path("api/v1/", include("apps.cart.urls")),
    path("api/v1/", include("apps.orders.urls")),
    path("api/v1/", include("apps.payments.urls")),
    path("api/v1/", include("apps.jobs.urls")),
    path("admin/", admin.site.urls),
]

if settings.PROFILING:  # staff only (SILKY_AUTHENTICATION, SILKY_AUTHORISATION)
    urlpatterns.append(path("silk/", include("silk.urls", namespace="silk")))
# Not debug_toolbar_urls(): it returns nothing when DEBUG is off at import, and a test that turns
# DEBUG on later would then get a NoReverseMatch. The app is installed only by dev settings.
if apps.is_installed("debug_toolbar"):
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
