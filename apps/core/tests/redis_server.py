"""A redis-server of a test's own, on a free port, that the test can stop, restart and pause."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One ``redis-server`` process; ``start`` again reuses the same port (and a saved snapshot)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.paused = False
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        self._snapshot = Path(self._dir.name) / "dump.rdb"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and return once it answers a PING."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                # No snapshots of its own: only ``stop(keep_data=True)`` writes one.
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", self._dir.name, "--dbfilename", self._snapshot.name),
                *("--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except (redis.ConnectionError, redis.TimeoutError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)
            finally:
                probe.close()

    def stop(self, keep_data: bool = False) -> None:
        """Stop the server and wait for the exit; its data is gone unless ``keep_data``.

        ``keep_data`` saves a snapshot that the next ``start`` loads: a restart of a Redis with
        persistence, where whatever was written to it while it was down is lost.
        """
        if self.process is None:
            return
        if self.paused:
            self.resume()
        if keep_data:
            client = redis.Redis(port=self.port, socket_timeout=5)
            client.save()
            client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None
        if not keep_data:
            self._snapshot.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        self._dir.cleanup()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it keeps its data and accepts connections, never answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
        self.paused = False
