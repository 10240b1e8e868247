"""Import jobs over the API, in process: who may upload, what is refused, what is queued."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.tests.clients import client_for
from apps.accounts.tests.factories import UserFactory
from apps.jobs.models import ImportJob
from apps.jobs.services import IMPORT_TASK

URL = "/api/v1/imports/"
STOCK = b"sku,warehouse,quantity\nSKU-00,main,5\nSKU-01,main,7\n"


@pytest.fixture
def staff(db, settings, tmp_path):
    settings.IMPORT_DIR = str(tmp_path / "imports")
    return client_for(UserFactory(is_staff=True))


def upload(client, data: bytes = STOCK, kind: str = "stock", name: str = "stock.csv"):
    return client.post(URL, {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_a_staff_upload_is_queued_and_answered_202_with_its_url(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(staff)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"] == f"http://testserver/api/v1/imports/{body['id']}/"
    job = ImportJob.objects.get(pk=body["id"])
    assert job.kind == "stock" and job.rows_total == 2
    assert Path(job.path).read_bytes() == STOCK  # kept on disk for the worker
    assert [cb.args for cb in callbacks] == [(IMPORT_TASK, (str(job.pk),))]


def test_the_job_shows_its_progress_to_staff(staff):
    job_id = upload(staff).json()["id"]

    shown = staff.get(f"{URL}{job_id}/").json()

    assert shown == {
        **shown,
        "id": job_id,
        "kind": "stock",
        "status": "queued",
        "rows_total": 2,
        "rows_done": 0,
        "rows_rejected": 0,
        "errors_url": None,
    }


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_only_staff_may_upload_or_watch(staff, who):
    job_id = upload(staff).json()["id"]
    other = client_for(None if who == "anonymous" else UserFactory())
    expected = 401 if who == "anonymous" else 403

    assert upload(other).status_code == expected
    assert other.get(f"{URL}{job_id}/").status_code == expected
    assert other.get(f"{URL}{job_id}/errors/").status_code == expected
    assert ImportJob.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"kind": "stock"}, {"file"}),
        ({"file": io.BytesIO(STOCK)}, {"kind"}),
        ({"kind": "users", "file": io.BytesIO(STOCK)}, {"kind"}),
        ({"kind": "stock", "file": "not a file"}, {"file"}),
    ],
)
def test_a_malformed_upload_is_a_400_naming_its_fields(staff, data, fields):
    response = staff.post(URL, data)

    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == fields
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("data", [b"", b"sku,warehouse,quantity\n"])
def test_a_file_without_rows_is_a_400(staff, data):
    response = upload(staff, data)

    assert response.status_code == 400 and "file" in response.json()["fields"]
    assert not ImportJob.objects.exists()


def test_json_instead_of_multipart_is_a_415(staff):
    response = staff.post(URL, {"kind": "stock"}, format="json")

    assert response.status_code == 415


def test_a_body_over_the_import_limit_is_a_413_before_it_is_read(staff, settings):
    settings.REQUEST_BODY_MAX_BYTES_BY_PATH = {URL: 1000}
    response = upload(staff, STOCK + b"SKU-02,main,1\n" * 100)

    assert response.status_code == 413 and response.json()["code"] == "request_too_large"


def test_a_file_larger_than_other_bodies_may_be_imported(staff, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    assert upload(staff, STOCK + b"SKU-02,main,1\n" * 200).status_code == 202


@pytest.mark.parametrize("path", ["00000000-0000-0000-0000-000000000000/", "not-a-uuid/"])
def test_an_unknown_job_is_a_404(staff, path):
    response = staff.get(URL + path)

    assert response.status_code == 404


def test_a_job_without_rejected_rows_has_no_errors_file(staff):
    job_id = upload(staff).json()["id"]

    assert staff.get(f"{URL}{job_id}/errors/").status_code == 404
