"""A real streaming pair for the tests: a PostgreSQL primary and a hot standby started from it.

Both run from the machine's PostgreSQL binaries as the ``postgres`` user (the server refuses
root), in a temporary directory, on free loopback ports. The primary waits for the standby to
*apply* each commit (``synchronous_commit = remote_apply``), as the cluster's does
(``perf/cluster``): a read on the standby after a commit sees it.

    with streaming_pair() as pair:          # tests: pair.primary_url, pair.replica_url
        pair.replica_stop(); pair.replica_start(); pair.replay_pause(); pair.replay_resume()

``Pair.from_env()`` rebuilds the handle in a child process (``SHOPFAST_PAIR``).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from perf.harness import free_port, postgres_bindir

HOST = "127.0.0.1"
USER = "postgres"
ENV = "SHOPFAST_PAIR"


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], cwd: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a server binary as postgres, from a directory postgres may enter (initdb and pg_ctl
    refuse to start where they cannot read their working directory, such as root's home)."""
    return subprocess.run(_as_postgres(command), cwd=cwd, capture_output=True, **kwargs)


@dataclass
class Pair:
    root: str
    bindir: str
    primary_port: int
    replica_port: int

    def url(self, port: int, dbname: str = "postgres") -> str:
        return f"postgres://{USER}@{HOST}:{port}/{dbname}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def _pg_ctl(self, node: str, *args: str) -> None:
        data = str(Path(self.root) / node)
        command = [f"{self.bindir}/pg_ctl", "-D", data, "-l", f"{data}.log", "-w", *args]
        _run(command, self.root, check=True, timeout=60)

    def replica_stop(self) -> None:
        self._pg_ctl("replica", "stop", "-m", "immediate")

    def replica_start(self) -> None:
        self._pg_ctl("replica", "start")

    def _on_replica(self, statement: str) -> None:
        with psycopg.connect(self.replica_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    def synchronous(self, on: bool) -> None:
        """Make the primary wait for the standby at commit, or not (while it is stopped or
        paused, a waiting commit would never return)."""
        names = "*" if on else ""
        with psycopg.connect(self.primary_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
            conn.execute("SELECT pg_reload_conf()")

    def replay_pause(self) -> None:
        """Stop applying WAL on the standby (it keeps receiving): it falls behind."""
        self._on_replica("SELECT pg_wal_replay_pause()")

    def replay_resume(self) -> None:
        self._on_replica("SELECT pg_wal_replay_resume()")

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Pair:
        return cls(**json.loads(os.environ[ENV]))


def _configure(data: Path, port: int, extra: str = "") -> None:
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '{HOST}'\nport = {port}\n"
            f"unix_socket_directories = '{data.parent}'\n"
            "fsync = off\nfull_page_writes = off\nmax_connections = 60\n" + extra
        )


@contextmanager
def streaming_pair() -> Iterator[Pair]:
    """Start a primary and a streaming hot standby; stop both and remove them afterwards."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="shopfast-pair-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    pair = Pair(str(root), str(bindir), free_port(), free_port())
    started: list[str] = []
    try:
        # initdb's pg_hba trusts loopback, replication connections included (--auth=trust).
        initdb = [f"{bindir}/initdb", "-D", f"{root}/primary", "-U", USER, "--auth=trust"]
        _run([*initdb, "-E", "UTF8", "--no-sync"], str(root), check=True)
        _configure(
            root / "primary",
            pair.primary_port,
            # An acknowledged commit has been applied on the standby: read-after-write holds there.
            "synchronous_standby_names = '*'\nsynchronous_commit = remote_apply\n",
        )
        pair._pg_ctl("primary", "start")
        started.append("primary")
        basebackup = [f"{bindir}/pg_basebackup", "-h", HOST, "-p", str(pair.primary_port)]
        basebackup += ["-U", USER, "-D", f"{root}/replica", "-R", "-X", "stream", "--no-sync"]
        _run(basebackup, str(root), check=True, timeout=120)
        _configure(root / "replica", pair.replica_port)
        pair.replica_start()
        started.append("replica")
        _wait_streaming(pair)
        yield pair
    finally:
        for node in reversed(started):
            _run([f"{bindir}/pg_ctl", "-D", f"{root}/{node}", "stop", "-m", "immediate"], str(root))
        shutil.rmtree(root, ignore_errors=True)


def _wait_streaming(pair: Pair, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(pair.primary_url, autocommit=True) as conn:
            if conn.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
            ).fetchone()[0]:
                return
        time.sleep(0.2)
    raise RuntimeError("the standby did not start streaming")
