import json
import socket

import pytest
from django.test import override_settings
from rest_framework.test import APIClient


@pytest.fixture
def client():
    return APIClient()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_stays_ready_and_reports_the_cache_degraded_when_redis_does_not_answer(
    client, settings
):
    # A real connection to a port where nothing listens, not a mock.
    dead = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed_port()}/0"}
    with override_settings(CACHES={"default": dead}):  # Django rebuilds its cache handlers
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "degraded"}}


@pytest.mark.django_db
def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"django_http_requests_total_by_method_total" in response.content


@pytest.mark.django_db
def test_metrics_with_a_token_set_need_it_as_a_bearer_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")

    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.json()["code"] == "not_authenticated"
        assert refused["WWW-Authenticate"].startswith("Bearer")
    assert right.status_code == 200
    assert b"django_http_requests_total_by_method_total" in right.content


@pytest.mark.django_db
def test_metrics_without_a_token_are_served_only_to_allowed_networks(client, settings):
    settings.METRICS_TOKEN = ""
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 403
    assert outside.json()["code"] == "permission_denied"
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200

    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_unknown_url_is_a_404_envelope(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_wrong_method_is_a_405_envelope(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_schema_is_valid_openapi_and_names_every_contract_path(client):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path in ("/api/v1/products/", "/api/v1/products/{slug}/", "/api/v1/categories/"):
        assert path in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}
    assert {"category", "tag", "min_price", "max_price", "in_stock", "q", "ordering"} <= params
    assert {"cursor", "page_size"} <= params
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200


@pytest.mark.django_db
def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content and b"cdn.jsdelivr" not in response.content


@pytest.mark.django_db
def test_admin_login_page_renders(client):
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"a": NaN}', b"\xff\xfe not utf-8", b"{", b""],
    ids=["deeply-nested", "nan", "bad-utf8", "truncated", "empty"],
)
def test_malformed_json_bodies_are_a_400_envelope_never_a_500(client, body):
    response = client.generic("POST", "/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "invalid"}


@pytest.mark.django_db
def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn turns every drf-spectacular warning (e.g. an undocumented view) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3")


@pytest.mark.django_db
def test_csp_reports_are_counted_and_logged_once_per_interval(client, caplog, settings):
    from apps.core import views

    settings.CACHE_OUTAGE_LOG_SECONDS = 60
    views._csp_logged[0] = 0.0
    caplog.set_level("WARNING", logger="apps.core.views")
    report = {"csp-report": {"violated-directive": "script-src"}}
    body = json.dumps(report)
    answers = [
        client.post("/csp-report", body, content_type="application/csp-report") for _ in range(20)
    ]

    assert {answer.status_code for answer in answers} == {204}
    assert len([r for r in caplog.records if "csp violation" in r.getMessage()]) == 1
    refused = client.get("/csp-report")
    assert refused.status_code == 405 and refused.json()["code"] == "method_not_allowed"
