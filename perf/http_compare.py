"""Throughput over HTTP in one run: hello-world, our product list cached and uncached, a baseline.

    uv run python -m perf.http_compare [--duration 10] [--connections 16] [--rounds 2]

Starts granian (2 workers x 2 threads) on a free port with ``perf.settings_perf`` (production
settings plus the perf-only URLconf), checks every target answers 200, warms up, then runs
``wrk --latency`` against each target in turn, ``--rounds`` times in alternating order. Prints a
Markdown table and the ratios and writes them to ``perf/reports/http_compare.json``. Exits non-zero
on any non-2xx response or socket error, or when ours is under ``--min-ratio`` times the baseline:
a ratio within one run is the only fair gate on a shared machine.

Data: the database the settings resolve (``DATABASE_URL``, else local PostgreSQL ``shopfast``),
migrated; it is seeded with ``manage.py seed_catalog --products 2000 --seed 7`` when it lists fewer
than 100 products. Installs wrk with apt-get when it is missing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT_DIR = BASE_DIR / "perf" / "reports"
SETTINGS_MODULE = "perf.settings_perf"
HOST = "127.0.0.1"
PAGE_SIZE = 24
MIN_LISTED = 100
SEED_ARGS = ["--products", "2000", "--seed", "7"]
TARGETS = {
    "hello": "/perf/hello/",
    # The production URL: after the first request every one is a cache hit (L1).
    "cached": "/api/v1/products/",
    # The same view with every cache layer off (no response cache, cachalot disabled).
    "uncached": "/perf/uncached/products/",
    "baseline": "/perf/baseline/products/",
}
TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


class CompareError(Exception):
    """A precondition failed: no point in measuring."""


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


# --- wrk ------------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    """Return wrk's path, installing the Debian package first when it is missing."""
    if path := shutil.which("wrk"):
        return path
    print("wrk not found: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False).returncode != 0:
        # A fresh container has no package lists yet.
        subprocess.run(["apt-get", "update"], check=True)
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
    """Read requests, req/s, p50/p99 and error counts from ``wrk --latency`` output."""

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
        # wrk counts status >= 400 here; the pre-flight check catches redirects.
        non_2xx=int(find(r"Non-2xx or 3xx responses:\s*(\d+)", "0")),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run_wrk(wrk: str, url: str, args: argparse.Namespace, duration: float) -> str:
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--timeout",
        "5s",
        "--latency",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CompareError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


# --- data -----------------------------------------------------------------------------------------
def ensure_catalog() -> int:
    """Seed the database the settings resolve when it lists too few products; return the count."""
    import django
    from django.core.management import get_commands
    from django.db import DatabaseError, connections

    django.setup()
    from apps.catalog.models import LISTED, Product

    try:
        listed = Product.objects.filter(LISTED).count()
        if listed < MIN_LISTED:
            if "seed_catalog" not in get_commands():
                raise CompareError("no seed_catalog command: seed the catalog some other way")
            print(f"{listed} listed products: seed_catalog {' '.join(SEED_ARGS)}", flush=True)
            seeded = subprocess.run(
                [sys.executable, str(BASE_DIR / "manage.py"), "seed_catalog", *SEED_ARGS],
                cwd=BASE_DIR,
                env=os.environ.copy(),
                check=False,
            )
            if seeded.returncode != 0:
                raise CompareError(f"seed_catalog failed (exit {seeded.returncode})")
            listed = Product.objects.filter(LISTED).count()
    except DatabaseError as exc:
        raise CompareError(f"database not ready (run `manage.py migrate` first?): {exc}") from exc
    finally:
        connections.close_all()
    if listed < PAGE_SIZE + 1:
        raise CompareError(f"only {listed} listed products: a full page needs {PAGE_SIZE + 1}")
    return listed


# --- server ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(
    port: int, log_path: Path, args: argparse.Namespace, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start granian on ``port`` with this process's environment, or ``env``."""
    granian = Path(sys.executable).with_name("granian")
    launcher = [str(granian)] if granian.exists() else ["uv", "run", "granian"]
    command = [
        *launcher,
        "--interface",
        "wsgi",
        "config.wsgi:application",
        "--workers",
        str(args.workers),
        "--blocking-threads",
        str(args.blocking_threads),
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
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


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def fetch(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path)
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


def preflight(port: int) -> None:
    """Every target answers 200 (no redirect) and each list holds a full page."""
    for name, path in TARGETS.items():
        status, body = fetch(port, path)
        if status != 200:
            raise CompareError(f"{name} {path} answered {status}: {body[:300]!r}")
        if name != "hello":
            count = len(json.loads(body)["results"])
            if count != PAGE_SIZE:
                raise CompareError(f"{name} {path} listed {count} products, not {PAGE_SIZE}")


# --- report ---------------------------------------------------------------------------------------
def summarize(results: list[WrkResult]) -> dict[str, dict]:
    summary = {}
    for name in TARGETS:
        runs = [r for r in results if r.target == name]
        summary[name] = {
            "path": TARGETS[name],
            "requests_per_sec": round(statistics.fmean(r.requests_per_sec for r in runs), 1),
            "p50_ms": round(statistics.median(r.p50_ms for r in runs), 2),
            "p99_ms": round(max(r.p99_ms for r in runs), 2),
            "requests": sum(r.requests for r in runs),
            "non_2xx": sum(r.non_2xx for r in runs),
            "socket_errors": sum(r.socket_errors for r in runs),
        }
    return summary


def markdown_table(summary: dict[str, dict]) -> str:
    lines = [
        "| target | path | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | `{s['path']}` | {s['requests_per_sec']:.1f} | {s['p50_ms']:.2f} | "
        f"{s['p99_ms']:.2f} | {s['requests']} | {s['non_2xx']} | {s['socket_errors']} |"
        for name, s in summary.items()
    ]
    return "\n".join(lines)


def git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    )
    return done.stdout.strip() or None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perf.http_compare", description=__doc__)
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--blocking-threads", type=int, default=2, help="granian threads/worker")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the three targets")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per target")
    parser.add_argument(
        "--min-ratio", type=float, default=2.5, help="gate on uncached/baseline (the view itself)"
    )
    parser.add_argument(
        "--min-cached-ratio", type=float, default=0.8, help="gate on cached/hello-world"
    )
    parser.add_argument("--report", type=Path, default=REPORT_DIR / "http_compare.json")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict:
    wrk = ensure_wrk()
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["PROFILING"] = "false"  # silk's own queries and writes are not the code measured
    alphabet = string.ascii_letters + string.digits
    os.environ["SECRET_KEY"] = "".join(secrets.choice(alphabet) for _ in range(50))
    listed = ensure_catalog()  # also resolves DATABASE_URL/REDIS_URL into os.environ for granian

    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = REPORT_DIR / "granian.log"
    port = free_port()
    server = start_server(port, log_path, args)
    results: list[WrkResult] = []
    try:
        wait_ready(server, port, log_path)
        preflight(port)
        for path in TARGETS.values():
            run_wrk(wrk, f"http://{HOST}:{port}{path}", args, args.warmup)
        for round_ in range(1, args.rounds + 1):
            # Alternate the order so slow drift (thermal, neighbours) does not favour one target.
            names = list(TARGETS) if round_ % 2 else list(reversed(TARGETS))
            for name in names:
                url = f"http://{HOST}:{port}{TARGETS[name]}"
                output = run_wrk(wrk, url, args, args.duration)
                result = parse_wrk(output, name, round_)
                print(
                    f"round {round_} {name:8s} {result.requests_per_sec:9.1f} req/s "
                    f"p50 {result.p50_ms:.2f} ms p99 {result.p99_ms:.2f} ms",
                    flush=True,
                )
                results.append(result)
    finally:
        stop_server(server)

    summary = summarize(results)
    rate = {name: s["requests_per_sec"] for name, s in summary.items()}
    ratios = {
        "uncached_to_baseline": round(rate["uncached"] / rate["baseline"], 2),
        "uncached_to_hello": round(rate["uncached"] / rate["hello"], 3),
        "cached_to_hello": round(rate["cached"] / rate["hello"], 3),
        "cached_to_uncached": round(rate["cached"] / rate["uncached"], 2),
    }
    errors = sum(s["non_2xx"] + s["socket_errors"] for s in summary.values())
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "command": "uv run python -m perf.http_compare " + " ".join(sys.argv[1:]),
        "server": (
            f"granian --interface wsgi --workers {args.workers} "
            f"--blocking-threads {args.blocking_threads}"
        ),
        "settings": SETTINGS_MODULE,
        "cpus": os.cpu_count(),
        "listed_products": listed,
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
        },
        "runs": [asdict(r) for r in results],
        "summary": summary,
        "ratios": ratios,
        "min_ratio": args.min_ratio,
        "min_cached_ratio": args.min_cached_ratio,
        "passed": errors == 0
        and ratios["uncached_to_baseline"] >= args.min_ratio
        and ratios["cached_to_hello"] >= args.min_cached_ratio,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = measure(args)
    except CompareError as exc:
        print(f"http_compare: {exc}", file=sys.stderr)
        return 2
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n")

    ratios = report["ratios"]
    print()
    print(markdown_table(report["summary"]))
    print()
    print(
        f"uncached / baseline: {ratios['uncached_to_baseline']:.2f}x "
        f"(gate {args.min_ratio:g}x, goal 4x)"
    )
    print(f"uncached / hello-world: {ratios['uncached_to_hello']:.3f}")
    print(
        f"cached / hello-world: {ratios['cached_to_hello']:.3f} "
        f"(gate {args.min_cached_ratio:g}); cached / uncached: {ratios['cached_to_uncached']:.2f}x"
    )
    print(f"report: {args.report}")
    if not report["passed"]:
        print("http_compare: FAILED (errors or ratio under the gate)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
