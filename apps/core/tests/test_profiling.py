"""Profiling switches: silk only with PROFILING=1 and staff only, the debug toolbar in dev only.

Settings are read once per process, so every configuration other than the test settings is
checked in a child process: one that imports each settings module afresh under its environment,
and children that run requests. The silk children run on production settings against this test's
database (they migrate silk's tables into it) with the response caches off, so that the product
list really queries and silk has SQL to record.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.bootstrap import database_url_of

BASE_DIR = Path(__file__).resolve().parents[3]
PRODUCTS_URL = "/api/v1/products/"
SILK_MIDDLEWARE = "silk.middleware.SilkyMiddleware"
TOOLBAR_MIDDLEWARE = "debug_toolbar.middleware.DebugToolbarMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
PROMETHEUS_AFTER = "django_prometheus.middleware.PrometheusAfterMiddleware"
# Not inherited from this process's environment: each child gets exactly the switches it is given.
SWITCHES = {"DJANGO_SETTINGS_MODULE", "DEBUG", "DEBUG_TOOLBAR", "PROFILING"} | {
    f"PROFILING_{knob}" for knob in ("SAMPLE_PERCENT", "PYTHON", "MAX_REQUESTS")
}
CHILD = (
    "import json, sys; import django; {setup}"
    "from apps.core.tests import test_profiling; "
    "print(json.dumps(getattr(test_profiling, sys.argv[1])(*sys.argv[2:])))"
)
# name: (settings module, environment, debug_toolbar importable)
CONFIGURATIONS = {
    "test, PROFILING=1, DEBUG=1": ("config.settings.test", {"PROFILING": "1", "DEBUG": "1"}, True),
    "prod": ("config.settings.prod", {}, True),
    "prod, DEBUG=1": ("config.settings.prod", {"DEBUG": "1"}, True),
    "prod, PROFILING=1": ("config.settings.prod", {"PROFILING": "1"}, True),
    "base, DEBUG=1": ("config.settings.base", {"DEBUG": "1"}, True),
    "dev": ("config.settings.dev", {}, True),
    "dev, DEBUG=0": ("config.settings.dev", {"DEBUG": "0"}, True),
    "dev, DEBUG_TOOLBAR=0": ("config.settings.dev", {"DEBUG_TOOLBAR": "0"}, True),
    "dev, no debug_toolbar package": ("config.settings.dev", {}, False),
}
# name: (silk installed, toolbar installed)
EXPECTED = {
    "test, PROFILING=1, DEBUG=1": (False, False),
    "prod": (False, False),
    "prod, DEBUG=1": (False, False),
    "prod, PROFILING=1": (True, False),
    "base, DEBUG=1": (False, False),
    "dev": (False, True),
    "dev, DEBUG=0": (False, False),
    "dev, DEBUG_TOOLBAR=0": (False, False),
    "dev, no debug_toolbar package": (False, False),
}


def child_run(probe: str, env: dict[str, str], *args: str, setup: bool = True) -> dict:
    """Run ``probe`` (a function of this module) in a fresh process; return what it returned."""
    inherited = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD.format(setup="django.setup(); " if setup else ""),
            probe,
            *args,
        ],
        cwd=BASE_DIR,
        env={
            **inherited,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url(),
            # This test's prefix: the suite's clean_cache fixture empties whatever a child left.
            "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def database_url() -> str:
    """Return a URL of this test run's database (pytest-django renamed it in this process only)."""
    return database_url_of(connection.settings_dict)


# --- Probes: run in the child process ------------------------------------------------------------


def settings_matrix() -> dict:
    """Import each configuration's settings module afresh under its environment; report on it."""
    found = {}
    for name, (module, env, toolbar_importable) in CONFIGURATIONS.items():
        for key in [key for key in sys.modules if key.startswith("config.settings")]:
            del sys.modules[key]
        for key in SWITCHES & set(os.environ):
            del os.environ[key]
        os.environ.update(env)
        if not toolbar_importable:  # as in an install without the dev dependency group
            sys.modules["debug_toolbar"] = None
        try:
            loaded = importlib.import_module(module)
        finally:
            sys.modules.pop("debug_toolbar", None)
        found[name] = {
            "silk": "silk" in loaded.INSTALLED_APPS,
            "toolbar": "debug_toolbar" in loaded.INSTALLED_APPS,
            "middleware": loaded.MIDDLEWARE,
        }
    return found


def urls_probe() -> dict:
    """Report which profiling URLs resolve, and whether the toolbar draws on an HTML page."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    def resolves(name: str) -> bool:
        try:
            reverse(name)
        except NoReverseMatch:
            return False
        return True

    return {
        "silk_urls": resolves("silk:summary"),
        "toolbar_urls": resolves("djdt:render_panel"),
        "toolbar_drawn": 'id="djDebug"' in Client().get("/admin/login/").content.decode(),
    }


def silk_probe() -> dict:
    """Migrate silk's tables, read /silk/ as anonymous, plain and staff users, list products."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from silk.models import Request

    call_command("migrate", "silk", verbosity=0)
    Request.objects.all().delete()  # a reused test database keeps the last run's rows
    users = get_user_model().objects
    staff = users.create_user("silk-staff", password="x", is_staff=True)
    plain = users.create_user("silk-plain", password="x")
    anonymous = Client().get("/silk/")
    as_plain, as_staff = Client(), Client()
    as_plain.force_login(plain)
    as_staff.force_login(staff)
    products = Client().get(PRODUCTS_URL)
    recorded = list(Request.objects.filter(path=PRODUCTS_URL))
    return {
        "anonymous": [anonymous.status_code, anonymous.get("Location", "")],
        "plain": as_plain.get("/silk/").status_code,
        "staff": as_staff.get("/silk/").status_code,
        "staff_requests": as_staff.get("/silk/requests/").status_code,
        "products": products.status_code,
        "recorded": len(recorded),
        "recorded_queries": [request.num_sql_queries for request in recorded],
        "recorded_profile": [bool(request.pyprofile) for request in recorded],
        "silk_pages_recorded": Request.objects.filter(path__startswith="/silk/").count(),
    }


def silk_secrets_probe() -> dict:
    """Register and get a token with silk on; return whether a token is stored anywhere."""
    from django.core.management import call_command
    from django.test import Client
    from silk.models import Request, Response

    call_command("migrate", "silk", verbosity=0)
    Request.objects.all().delete()
    client = Client()
    password = "silk-Probe-pw-2026"
    body = {"username": "silk-secret", "email": "silk@example.com", "password": password}
    registered = client.post("/api/v1/auth/register/", body, content_type="application/json")
    credentials = {"username": "silk-secret", "password": password}
    token = client.post("/api/v1/auth/token/", credentials, content_type="application/json")
    stored = [
        str(field)
        for response in Response.objects.all()
        for field in (response.body, response.raw_body)
    ] + [
        str(field)
        for request in Request.objects.all()
        for field in (request.body, request.raw_body)
    ]
    secret = token.json()["token"]
    return {
        "statuses": [registered.status_code, token.status_code],
        "recorded": Response.objects.count(),
        "token_stored": any(secret in text for text in stored),
        "password_stored": any(password in text for text in stored),
        "masked": sum("********" in text for text in stored),
    }


# --- Tests ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(django_db_setup) -> dict:
    return child_run("settings_matrix", {}, setup=False)


def test_test_settings_leave_silk_out_and_its_url_is_a_404(client, db):
    assert not settings.PROFILING
    assert "silk" not in settings.INSTALLED_APPS
    assert SILK_MIDDLEWARE not in settings.MIDDLEWARE
    assert client.get("/silk/").status_code == 404


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_silk_only_with_profiling_and_the_toolbar_only_in_dev_with_debug(matrix, name):
    silk, toolbar = EXPECTED[name]
    found = matrix[name]

    assert found["silk"] is silk
    assert (SILK_MIDDLEWARE in found["middleware"]) is silk
    assert found["toolbar"] is toolbar
    assert (TOOLBAR_MIDDLEWARE in found["middleware"]) is toolbar


def test_silk_runs_after_auth_inside_the_prometheus_pair(matrix):
    middleware = matrix["prod, PROFILING=1"]["middleware"]

    assert middleware[0] == "django_prometheus.middleware.PrometheusBeforeMiddleware"
    assert middleware[-1] == PROMETHEUS_AFTER
    assert (
        middleware.index(AUTH_MIDDLEWARE)
        < middleware.index(SILK_MIDDLEWARE)
        < middleware.index(PROMETHEUS_AFTER)
    )


def silk_env(**extra: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "PROFILING": "1",
        # Every request reaches the view and its SQL: silk must have queries to record.
        "CACHE_RESPONSES": "0",
        "CACHALOT_ENABLED": "0",
        "SECURE_SSL_REDIRECT": "0",  # the test client speaks plain HTTP
        **extra,
    }


def test_with_profiling_on_silk_is_for_staff_and_records_a_product_list(transactional_db):
    found = child_run("silk_probe", silk_env())

    status, location = found["anonymous"]
    assert status == 302 and location.startswith("/admin/login/?next=/silk/")
    assert found["plain"] == 403
    assert found["staff"] == 200 and found["staff_requests"] == 200
    assert found["products"] == 200
    assert found["recorded"] == 1
    assert found["recorded_queries"][0] >= 1  # the list query, with its EXPLAIN stored
    assert found["recorded_profile"] == [True]  # cProfile on by default
    assert found["silk_pages_recorded"] == 0  # silk does not record its own pages


def test_silk_stores_no_token_and_no_password(transactional_db):
    # The bodies of /auth/token/ and /auth/register/ answers, API tokens, were stored in clear.
    found = child_run("silk_secrets_probe", silk_env())

    assert found["statuses"] == [201, 200] and found["recorded"] == 2
    assert not found["token_stored"] and not found["password_stored"]
    assert found["masked"] >= 2


def test_a_sample_rate_of_zero_records_nothing(transactional_db):
    found = child_run("silk_probe", silk_env(PROFILING_SAMPLE_PERCENT="0"))

    assert found["products"] == 200 and found["staff"] == 200
    assert found["recorded"] == 0


def test_dev_settings_draw_the_toolbar_on_html_pages(db):
    found = child_run("urls_probe", {"DJANGO_SETTINGS_MODULE": "config.settings.dev"})

    assert found == {"silk_urls": False, "toolbar_urls": True, "toolbar_drawn": True}


def test_production_settings_serve_neither_the_toolbar_nor_silk(db):
    found = child_run("urls_probe", {"DJANGO_SETTINGS_MODULE": "config.settings.prod"})

    assert found == {"silk_urls": False, "toolbar_urls": False, "toolbar_drawn": False}
