"""A catalog import through the staff API at scale: upload, the worker's run, peak memory of each.

    uv run python -m perf.import_api --rows 1000000

Recreates ``--database`` (as ``perf.import_bench``), writes a catalog file of ROWS rows, starts
granian (production settings, 2 workers) and ``celery -A config worker -B`` on it, then as a staff
user ``POST /api/v1/imports/`` the file (streamed from disk, multipart) and polls the job until it
is done. Reports the upload's time, the job's time and rows/s, and the peak RSS (``VmHWM``) of
every web and worker process: the upload goes to disk, the worker streams it in batches, so
neither should grow with the file. Writes perf/reports/import_api.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from perf import import_data
from perf.harness import BASE_DIR, HOST, free_port, start_server, start_worker, stop_server
from perf.harness import wait_ready as server_wait_ready
from perf.import_bench import recreate_database

REPORT = BASE_DIR / "perf" / "reports" / "import_api.json"
STAFF_TOKEN_CODE = (
    "import django; django.setup(); from django.contrib.auth import get_user_model; "
    "from rest_framework.authtoken.models import Token; "
    "u = get_user_model().objects.create_user('import-staff', is_staff=True); "
    "print(Token.objects.create(user=u).key)"
)


def peak_rss_mb(pids: set[int]) -> dict[int, float]:
    """VmHWM (peak resident set) of each live process in ``pids``, in MB."""
    peaks = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1]) / 1024
    return peaks


def group(pgid: int) -> set[int]:
    """The processes of session/group ``pgid`` (the server's or the worker's)."""
    out = subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True).stdout
    return {int(pid) for pid, g in (line.split() for line in out.splitlines()) if int(g) == pgid}


class PeakWatcher(threading.Thread):
    """Sample the peak RSS of two process groups every half second (children come and go)."""

    def __init__(self, groups: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.groups, self.peaks = groups, {name: 0.0 for name in groups}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for name, pgid in self.groups.items():
                values = peak_rss_mb(group(pgid)).values()
                self.peaks[name] = max([self.peaks[name], *values])


def upload(port: int, token: str, path: Path) -> dict:
    """POST ``path`` as multipart ``file`` with ``kind=catalog``, streamed from disk."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ncatalog\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk
        yield tail

    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    connection.request(
        "POST",
        "/api/v1/imports/",
        body=body(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + path.stat().st_size + len(tail)),
        },
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    if response.status != 202:
        raise RuntimeError(f"upload answered {response.status}: {answer}")
    return answer


def job_of(port: int, token: str, job_id: str) -> dict:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request(
        "GET", f"/api/v1/imports/{job_id}/", headers={"Authorization": f"Token {token}"}
    )
    return json.loads(connection.getresponse().read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.import_api", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="shopfast_import_api")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--blocking-threads", type=int, default=2)
    args = parser.parse_args(argv)

    env = recreate_database(args.database)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "perf.settings_perf",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": HOST,
            "PROFILING": "false",
            "CACHE_KEY_PREFIX": f"shopfast-import-api-{uuid.uuid4().hex[:8]}",
        }
    )
    workdir = Path(tempfile.mkdtemp(prefix="shopfast-import-api-"))
    env["IMPORT_DIR"] = str(workdir / "imports")
    env["CELERY_BEAT_SCHEDULE_FILENAME"] = str(workdir / "beat")
    path = workdir / "catalog.csv"
    import_data.write_catalog(path, args.rows)
    token = subprocess.run(
        [sys.executable, "-c", STAFF_TOKEN_CODE], env=env, cwd=BASE_DIR, check=True,
        capture_output=True, text=True,
    ).stdout.split()[-1]  # fmt: skip
    port = free_port()
    server = start_server(port, workdir / "granian.log", args, env=env)
    worker = start_worker(workdir / "worker.log", env)
    watcher = PeakWatcher({"web": server.pid, "worker": worker.pid})
    try:
        server_wait_ready(server, port, workdir / "granian.log")
        watcher.start()
        started = time.monotonic()
        queued = upload(port, token, path)
        uploaded = time.monotonic() - started
        while (job := job_of(port, token, queued["id"]))["status"] not in ("done", "failed"):
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited: see {workdir / 'worker.log'}")
            time.sleep(0.5)
        total = time.monotonic() - started
    finally:
        watcher.done.set()
        stop_server(server)
        stop_server(worker)
    result = {
        "rows": args.rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "status": job["status"],
        "rows_done": job["rows_done"],
        "rows_rejected": job["rows_rejected"],
        "upload_seconds": round(uploaded, 1),
        "total_seconds": round(total, 1),
        "rows_per_second": round(args.rows / total),
        "peak_rss_mb": {name: round(mb, 1) for name, mb in watcher.peaks.items()},
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if job["status"] == "done" and job["rows_rejected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
