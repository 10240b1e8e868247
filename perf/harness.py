"""The one harness of the wrk comparisons: app server up and down, wrk rounds, summary, gates.

A comparison names its targets (a GET path, or a POST through ``perf/requests.lua`` with bodies
and tokens), runs each for ``--duration`` seconds, ``--rounds`` times in alternating order, and
gates on ratios between targets of the same run: on a shared machine only a ratio measured in
one run is a fair gate. ``perf.http_compare`` and ``perf.checkout_compare`` are built on it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT_DIR = BASE_DIR / "perf" / "reports"
REQUESTS_LUA = BASE_DIR / "perf" / "requests.lua"
HOST = "127.0.0.1"
TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


class CompareError(Exception):
    """A precondition failed: no point in measuring."""


@dataclass(frozen=True)
class Target:
    """What wrk sends: GET ``path``, or, with ``inputs`` (tokens file, bodies file), a POST each
    request through requests.lua (``key_prefix``: a fresh Idempotency-Key per request)."""

    name: str
    path: str
    inputs: tuple[Path, Path] | None = None
    key_prefix: str = ""
    ok_status: int = 200


@dataclass
class WrkResult:
    target: str
    round: int
    requests: int
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    statuses: dict[int, int] = field(default_factory=dict)  # requests.lua targets only
    samples: dict[int, str] = field(default_factory=dict)

    @property
    def ok_per_sec(self) -> float:
        """Requests per second that got the target's expected status."""
        if not self.statuses:
            return self.requests_per_sec
        ok = max(self.statuses.get(200, 0), self.statuses.get(201, 0))
        return self.requests_per_sec * ok / self.requests if self.requests else 0.0


# --- wrk ------------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    """Return wrk's path, installing the Debian package first when it is missing."""
    if path := shutil.which("wrk"):
        return path
    print("wrk not found: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True)  # a fresh container has no lists yet
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    if path := shutil.which("wrk"):
        return path
    raise CompareError("wrk is still missing after apt-get install")


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not match:
        raise ValueError(f"unparsable wrk time {value!r}")
    return float(match.group(1)) * TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str, target: str, round_: int) -> WrkResult:
    """Read requests, req/s, p50/p99, error counts and requests.lua's statuses from wrk."""

    def find(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match:
            return match.group(1)
        if default is None:
            raise ValueError(f"wrk output has no {pattern!r}:\n{output}")
        return default

    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        target=target,
        round=round_,
        requests=int(find(r"^\s*(\d+) requests in")),
        requests_per_sec=float(find(r"^Requests/sec:\s*([\d.]+)")),
        p50_ms=_ms(find(r"^\s*50%\s+(\S+)")),
        p99_ms=_ms(find(r"^\s*99%\s+(\S+)")),
        non_2xx=int(find(r"Non-2xx or 3xx responses:\s*(\d+)", "0")),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        statuses={
            int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)
        },
        samples={
            int(code): body for code, body in re.findall(r"^sample (\d+) (.*)$", output, re.M)
        },
    )


def wrk_run(wrk: str, port: int, target: Target, args, seconds: float, key: str = "") -> str:
    """Run wrk once against ``target``; return its output."""
    command = [
        *(wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s"),
        *("--timeout", "5s", "--latency"),
    ]
    url = f"http://{HOST}:{port}{target.path}"
    if target.inputs:
        prefix = f"{target.key_prefix}-{key}" if target.key_prefix else ""
        command += ["-s", str(REQUESTS_LUA), url, "--", *map(str, target.inputs)]
        command += [prefix or "-", str(args.threads)]
    else:
        command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CompareError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def rounds(
    wrk: str,
    port: int,
    targets: list[Target],
    args,
    around: Callable[[Target], Callable[[WrkResult], None]] | None = None,
) -> list[WrkResult]:
    """Warm each target up, then run ``args.rounds`` rounds, alternating the order.

    ``around(target)``, when given, runs before each measured run and returns what to call with
    its result (a comparison's own checks, e.g. orders created against 201s counted).
    """
    for target in targets:
        wrk_run(wrk, port, target, args, args.warmup, key="warm")
    results = []
    for round_ in range(1, args.rounds + 1):
        # Alternate the order so slow drift (thermal, neighbours) does not favour one target.
        for target in targets if round_ % 2 else list(reversed(targets)):
            after = around(target) if around else None
            output = wrk_run(wrk, port, target, args, args.duration, key=str(round_))
            result = parse_wrk(output, target.name, round_)
            if after:
                after(result)
            print(
                f"round {round_} {target.name:9s} {result.ok_per_sec:9.1f} ok/s "
                f"p50 {result.p50_ms:.2f} ms p99 {result.p99_ms:.2f} ms"
                + (f" statuses {result.statuses}" if result.statuses else ""),
                flush=True,
            )
            results.append(result)
    return results


# --- server ---------------------------------------------------------------------------------------
def postgres_bindir() -> Path:
    """Return the newest installed PostgreSQL's bin directory (Debian's layout)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[4]))
    if not found:
        raise CompareError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(port: int, log_path: Path, args, env: dict[str, str] | None = None):
    """Start granian (WSGI, ``args.workers`` x ``args.blocking_threads``) on ``port``."""
    granian = Path(sys.executable).with_name("granian")
    command = [
        *([str(granian)] if granian.exists() else ["uv", "run", "granian"]),
        *("--interface", "wsgi", "config.wsgi:application"),
        *("--workers", str(args.workers), "--blocking-threads", str(args.blocking_threads)),
        *("--host", HOST, "--port", str(port), "--no-access-log"),
    ]
    print("$", " ".join(command), flush=True)
    with log_path.open("wb") as log:
        # A session of its own: stopping it takes the workers down too.
        return subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=os.environ.copy() if env is None else env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_worker(log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start ``celery -A config worker -B`` (the worker with its schedule); stop it with
    ``stop_server``."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-l", "warning"]
    print("$", " ".join(command[2:]), flush=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def fetch(
    port: int, path: str, method: str = "GET", body: str | None = None, headers=None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(server: subprocess.Popen, port: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CompareError(f"granian exited early:\n{log_path.read_text()[-3000:]}")
        try:
            if fetch(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise CompareError(f"granian not ready after {timeout:g}s:\n{log_path.read_text()[-3000:]}")


def wait_worker_ready(worker: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Wait until the Celery worker answers a ping: its boot (Django, beat, two prefork children:
    seconds of CPU on 2 cores) must not overlap a measured run."""
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise CompareError(f"the worker exited early:\n{log_path.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return
    raise CompareError(f"the worker not ready after {timeout:g}s:\n{log_path.read_text()[-3000:]}")


@contextmanager
def server_running(args, log_name: str) -> Iterator[int]:
    """Run the app server for the block (this process's environment); yield its port."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = REPORT_DIR / log_name
    port = free_port()
    server = start_server(port, log_path, args)
    try:
        wait_ready(server, port, log_path)
        yield port
    finally:
        stop_server(server)


# --- summary, gates, report -----------------------------------------------------------------------
def summarize(results: list[WrkResult]) -> dict[str, dict]:
    summary = {}
    for name in dict.fromkeys(r.target for r in results):
        runs = [r for r in results if r.target == name]
        summary[name] = {
            "ok_per_sec": round(statistics.fmean(r.ok_per_sec for r in runs), 1),
            "p50_ms": round(statistics.median(r.p50_ms for r in runs), 2),
            "p99_ms": round(max(r.p99_ms for r in runs), 2),
            "requests": sum(r.requests for r in runs),
            "errors": sum(
                r.socket_errors
                + (sum(n for c, n in r.statuses.items() if c >= 300) if r.statuses else r.non_2xx)
                for r in runs
            ),
        }
    return summary


def markdown_table(summary: dict[str, dict]) -> str:
    lines = [
        "| target | ok/s | p50 ms | p99 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {s['ok_per_sec']:.1f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
        f"{s['requests']} | {s['errors']} |"
        for name, s in summary.items()
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class RatioGate:
    """``numerator`` ok/s over ``denominator`` ok/s, both from the same run, at least ``floor``."""

    numerator: str
    denominator: str
    floor: float

    def value(self, summary: dict[str, dict]) -> float:
        return round(
            summary[self.numerator]["ok_per_sec"] / summary[self.denominator]["ok_per_sec"], 3
        )


def gates_report(summary: dict[str, dict], gates: list[RatioGate]) -> list[dict]:
    return [
        {
            "gate": f"{g.numerator} / {g.denominator}",
            "value": g.value(summary),
            "floor": g.floor,
            "passed": g.value(summary) >= g.floor,
        }
        for g in gates
    ]


def gates_table(gates: list[dict]) -> str:
    lines = ["| ratio | value | floor | |", "|---|---:|---:|---|"]
    lines += [
        f"| {g['gate']} | {g['value']:.3f} | {g['floor']:g} | {'ok' if g['passed'] else 'FAIL'} |"
        for g in gates
    ]
    return "\n".join(lines)


def git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    )
    return done.stdout.strip() or None


def positive(kind: type) -> Callable[[str], int | float]:
    """Return an argparse type accepting numbers of ``kind`` above zero (not NaN)."""

    def parse(value: str) -> int | float:
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if not number > 0:
            raise argparse.ArgumentTypeError(f"{value!r} is not a {kind.__name__} above 0")
        return number

    return parse


def load_args(parser: argparse.ArgumentParser) -> None:
    """Add the options every comparison shares: wrk's load and the app server's size."""
    count = positive(int)  # wrk takes whole seconds ("-d0.5s" is a usage error)
    parser.add_argument("--duration", type=count, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=count, default=16)
    parser.add_argument("--threads", type=count, default=2, help="wrk threads")
    parser.add_argument("--workers", type=count, default=2, help="granian worker processes")
    parser.add_argument("--blocking-threads", type=count, default=2, help="granian threads/worker")
    parser.add_argument("--rounds", type=count, default=2, help="passes over the targets")
    parser.add_argument("--warmup", type=count, default=3, help="seconds of warm-up per target")


def report_write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"report: {path}")
