"""The documented production launch (``python -m config.web``), run for real with two workers."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.bootstrap import database_url_of

BASE_DIR = Path(__file__).resolve().parent.parent
REQUESTS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, bytes]:
    """One request on a connection of its own (so granian may hand it to either worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def workers_of(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.update(int(c) for c in (task / "children").read_text().split())
    return children


def wait_until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


class Launched:
    def __init__(self, process: subprocess.Popen, port: int, metrics_dir: Path) -> None:
        self.process, self.port, self.metrics_dir = process, port, metrics_dir


@pytest.fixture(scope="module")
def launched(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Launched]:
    port = free_port()
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "stale_from_a_previous_run.db").write_bytes(b"old")
    with django_db_blocker.unblock():
        database = database_url_of(connection.settings_dict)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": database,
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "config.web", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: get(port, "/healthz")[0] == 200), "no /healthz in 30 s"
        yield Launched(process, port, metrics_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def requests_counted(text: str) -> float:
    name = "django_http_requests_total_by_view_transport_method_total"
    pattern = rf'^{name}\{{[^}}]*view="healthz"[^}}]*\}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


def test_one_scrape_counts_the_requests_of_every_worker(launched):
    before = requests_counted(get(launched.port, "/metrics")[1].decode())
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(launched.port, "/healthz")[0], range(REQUESTS)))
    assert statuses == [200] * REQUESTS

    # Both workers wrote their figures to the shared folder, emptied of the previous run's.
    writers = {path.stem.rsplit("_", 1)[-1] for path in launched.metrics_dir.glob("counter_*.db")}
    assert len(writers) == 2, sorted(launched.metrics_dir.iterdir())
    assert not (launched.metrics_dir / "stale_from_a_previous_run.db").exists()
    # Every scrape, whichever worker answers it, counts all of them.
    for _ in range(4):
        after = requests_counted(get(launched.port, "/metrics")[1].decode())
        assert after - before >= REQUESTS, (before, after)


def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(launched):
    workers = workers_of(launched.process.pid)
    assert len(workers) == 2, workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)

    assert wait_until(lambda: len(workers_of(launched.process.pid) - {victim}) == 2, 20)
    assert launched.process.poll() is None
    assert all(get(launched.port, "/healthz")[0] == 200 for _ in range(20))
