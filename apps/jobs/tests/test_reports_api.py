"""Sales reports as staff jobs: who may ask, what is refused, and the report the worker writes."""

import json

import pytest

from apps.accounts.tests.clients import client_for
from apps.accounts.tests.factories import UserFactory
from apps.jobs.models import ReportJob
from apps.jobs.reports import REPORT_TASK, report_job_run

URL = "/api/v1/reports/sales/"


@pytest.fixture
def staff(db, settings, tmp_path):
    settings.IMPORT_DIR = str(tmp_path / "jobs")
    return client_for(UserFactory(is_staff=True))


def ask(client, **body):
    return client.post(URL, {"from": "2026-11-01", "to": "2026-11-30", **body}, format="json")


def test_a_report_is_queued_then_written_by_its_task_and_downloaded(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = ask(staff, format="json")

    assert response.status_code == 202
    job_id = response.json()["id"]
    assert [cb.args for cb in callbacks] == [(REPORT_TASK, (job_id,))]
    assert staff.get(f"/api/v1/reports/{job_id}/").json()["download_url"] is None
    assert staff.get(f"/api/v1/reports/{job_id}/download/").status_code == 404

    report_job_run(job_id)  # what the worker runs (tests/worker.py runs it for real elsewhere)

    shown = staff.get(f"/api/v1/reports/{job_id}/").json()
    assert shown["status"] == "done" and shown["rows"] == 0
    download = staff.get(shown["download_url"].removeprefix("http://testserver"))
    assert download["Content-Type"] == "application/json"
    assert json.loads(b"".join(download.streaming_content)) == {
        "from": "2026-11-01", "to": "2026-11-30", "days": [], "skus": [], "totals": []
    }  # fmt: skip


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_only_staff_may_ask_or_download(staff, who):
    job_id = ask(staff).json()["id"]
    other = client_for(None if who == "anonymous" else UserFactory())
    expected = 401 if who == "anonymous" else 403

    assert ask(other).status_code == expected
    assert other.get(f"/api/v1/reports/{job_id}/").status_code == expected
    assert other.get(f"/api/v1/reports/{job_id}/download/").status_code == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"from": "2000-01-01"}, "to"),
        ({"format": "xml"}, "format"),
        ({"from": None}, "from"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_queues_nothing(staff, body, field):
    response = ask(staff, **body)

    assert response.status_code == 400 and field in response.json()["fields"]
    assert not ReportJob.objects.exists()


def test_an_unknown_report_is_a_404(staff):
    missing = "00000000-0000-0000-0000-000000000000"
    assert staff.get(f"/api/v1/reports/{missing}/").status_code == 404
    assert staff.get(f"/api/v1/reports/{missing}/download/").status_code == 404
