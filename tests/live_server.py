"""The production launch (``python -m config.web``) on a free port, against this run's database."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.bootstrap import database_url_of
from perf.harness import free_port

__all__ = ["exchange", "free_port", "get", "launched", "request", "wait_until"]

BASE_DIR = Path(__file__).resolve().parent.parent


def exchange(port: int, method: str, path: str, body=None, headers=None):
    """One request on a connection of its own (so granian may hand it to either worker).

    Return (status, headers with lower-case names, body).
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, payload, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        return response.status, found, response.read()
    finally:
        conn.close()


def request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    status, _, raw = exchange(port, method, path, body, headers)
    return status, raw


def get(port: int, path: str) -> tuple[int, bytes]:
    return request(port, "GET", path)


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


@contextmanager
def launched(workers: int = 2, **env: str) -> Iterator[tuple[subprocess.Popen, int]]:
    """Run the production launcher on this test run's database; yield (process, port).

    The server is stopped (its whole process group) on exit.
    """
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": database_url_of(connection.settings_dict),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        **env,
    }
    command = [sys.executable, "-m", "config.web", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: get(port, "/healthz")[0] == 200), "no /healthz in 30 s"
        yield process, port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
