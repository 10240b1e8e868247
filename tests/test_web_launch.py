"""The documented production launch (``python -m config.web``), run for real with two workers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import live_server
from tests.live_server import get, wait_until

REQUESTS = 120


def workers_of(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.update(int(c) for c in (task / "children").read_text().split())
    return children


class Launched:
    def __init__(self, process: subprocess.Popen, port: int, metrics_dir: Path) -> None:
        self.process, self.port, self.metrics_dir = process, port, metrics_dir


@pytest.fixture(scope="module")
def launched(django_db_setup, tmp_path_factory) -> Iterator[Launched]:
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "stale_from_a_previous_run.db").write_bytes(b"old")
    with live_server.launched(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as (process, port):
        yield Launched(process, port, metrics_dir)


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


def test_the_launch_refuses_to_serve_when_a_system_check_fails(django_db_setup):
    # A PAYMENT_PROVIDER that names nothing turned every checkout into a declined payment.
    env = {**os.environ, "SECRET_KEY": "k" * 48, "PAYMENT_PROVIDER": "apps.orders.payments.Nope"}
    port = live_server.free_port()
    done = subprocess.run(
        [sys.executable, "-m", "config.web", "--port", str(port)],
        cwd=live_server.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "orders.E001" in done.stderr and "not serving" in done.stderr
