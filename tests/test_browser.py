"""Swagger UI, ReDoc and the admin work under the Content-Security-Policy, in headless Chromium.

Each page is loaded by Debian's chromium against the production launch; the browser reports any
violation to ``/csp-report``, which counts it in ``/metrics``. ``.ci/run`` installs chromium.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest
from django.core.management import call_command

from tests import live_server

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
# Markup each page has only once its scripts ran.
PAGES = {
    "/api/docs/": "opblock",  # Swagger UI drew the operations
    "/api/redoc/": "menu-content",  # ReDoc drew its menu
    "/admin/login/": 'id="login-form"',
}


@pytest.fixture(scope="module")
def port(django_db_setup):
    call_command("collectstatic", interactive=False, verbosity=0)
    with live_server.launched(workers=1) as (_, port):
        yield port


def rendered(port: int, path: str) -> str:
    """The DOM of ``path`` after its scripts ran, as headless Chromium shows it."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                CHROMIUM,
                *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"),
                *("--no-first-run", "--disable-background-networking"),
                *("--disable-component-update", "--disable-sync"),
                f"--user-data-dir={profile}",
                "--virtual-time-budget=8000",
                "--dump-dom",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    return done.stdout


def violations(port: int) -> float:
    text = live_server.get(port, "/metrics")[1].decode()
    found = re.search(r"^shopfast_csp_violations_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_page_renders_under_the_policy_with_no_violation(port, path):
    before = violations(port)
    dom = rendered(port, path)
    status, headers, _ = live_server.exchange(port, "GET", path)

    assert status == 200 and "script-src 'self'" in headers["content-security-policy"]
    assert PAGES[path] in dom, dom[:500]
    assert violations(port) == before


def test_an_inline_script_would_be_reported(port):
    # The control: the counter the test above reads does count what the browser reports.
    before = violations(port)
    report = {"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}}
    assert live_server.request(port, "POST", "/csp-report", report)[0] == 204
    assert violations(port) == before + 1
