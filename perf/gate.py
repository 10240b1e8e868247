"""`make perf-gate`: load the production configuration and fail on a regression.

    uv run python -m perf.gate [--thresholds perf/thresholds.toml] [--inject sleep|nplusone]
                               [--direct] [--report-dir DIR] [--scale-time 1.0]

What runs: the run's own database, cloned from a seeded template (perf/gate_data.py); pgbouncer
in transaction pooling mode in front of PostgreSQL (perf/pgbouncer.py); granian with 2 workers x
2 threads on production settings (DEBUG off) through the bouncer; then Locust, headless, in turn:
the hello-world ceiling, the ``mixed`` scenario, the ``flash_sale`` on one SKU, and the ceiling
again (its mean is the run's ceiling). Then the ``deferred_sale``: payments that answer later, on a
server and a real Celery worker of its own (perf/gate_deferred.py), judged after its reservations
have expired. Every limit lives in perf/thresholds.toml.

It fails (exit 1) when any request failed, when a request group's p95 is above its threshold,
when a scenario's throughput is below its fraction of the ceiling, or when the database after the
flash sale breaks an invariant (stock conserved against the ledger, orders match decrements, no
negative stock, units sold = what the buyers were answered). Exit 2: the run itself broke.

Report (git-ignored): ``perf/reports/gate/<time>/`` and ``perf/reports/gate/latest``: Locust's
CSV and HTML per run, ``timeline.png``, ``summary.md`` and ``summary.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from perf import gate_checks, gate_data, gate_deferred, gate_report
from perf.harness import (
    HOST,
    CompareError,
    fetch,
    free_port,
    git_commit,
    start_server,
    start_worker,
    stop_server,
    wait_ready,
    wait_worker_ready,
)

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT_ROOT = BASE_DIR / "perf" / "reports" / "gate"
SETTINGS_MODULE = "perf.settings_perf"  # production settings plus /perf/hello/
LOCUSTFILES = BASE_DIR / "locustfiles"
STOP_TIMEOUT = 10  # seconds Locust lets each user finish its task after --run-time


class GateError(Exception):
    """The run could not be made (not a verdict on the code)."""


def run_environment(args: argparse.Namespace, run_id: str) -> dict[str, str]:
    """Return the environment of every process of the run: production-like, isolated."""
    env = gate_data.environment_base()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DEBUG": "false",
            "PROFILING": "false",  # silk adds queries of its own
            "CACHE_KEY_PREFIX": f"shopfast-gate-{run_id}",
            # The gate measures the service, not the throttles (buyers check out back to back).
            "THROTTLE_CHECKOUT": "1000000/min",
            "THROTTLE_REGISTER": "1000000/min",
            "THROTTLE_TOKEN": "1000000/min",
            "PERF_INJECT_REGRESSION": args.inject or "",
        }
    )
    return env


def locust_run(
    name: str, locustfile: str, users: int, seconds: float, host: str, out: Path, env: dict
) -> Path:
    """Run one headless Locust scenario; return the path of its ``_stats.csv``."""
    locust = Path(sys.executable).with_name("locust")
    prefix = out / name
    seconds = max(1, round(seconds))  # Locust takes whole seconds
    command = [
        str(locust) if locust.exists() else "locust",
        *("-f", str(LOCUSTFILES / locustfile)),
        "--headless",
        *("-u", str(users), "-r", str(users)),
        *("--run-time", f"{seconds}s", "--stop-timeout", str(STOP_TIMEOUT)),
        *("--host", host, "--csv", str(prefix), "--html", f"{prefix}.html"),
        *("--only-summary", "--loglevel", "WARNING"),
    ]
    print(f"locust {name}: {users} users, {seconds}s", flush=True)
    with (out / f"{name}.log").open("wb") as log:
        # Locust exits 1 when any request failed: the gates judge that, from the CSV.
        done = subprocess.run(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    stats = Path(f"{prefix}_stats.csv")
    if done.returncode not in (0, 1) or not stats.exists():
        tail = (out / f"{name}.log").read_text(errors="replace")[-3000:]
        raise GateError(f"locust {name} broke (exit {done.returncode}):\n{tail}")
    return stats


def ceiling_of(stats: Path) -> float:
    return gate_checks.stats_read(stats)[gate_checks.AGGREGATED].rps


def metrics_read(port: int) -> dict[str, float]:
    status, body = fetch(port, "/metrics")
    if status != 200:
        raise GateError(f"/metrics answered {status}")
    return gate_checks.metrics_totals(body.decode())


def redis_forget(prefix: str) -> None:
    """Delete the run's cache keys (a prefix of its own, so nothing else is touched)."""
    import redis

    from config import bootstrap

    client = redis.Redis.from_url(bootstrap.redis_url())
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def measure(args: argparse.Namespace, out: Path) -> tuple[list[gate_checks.Gate], dict]:
    from config import bootstrap

    limits = gate_checks.thresholds_load(args.thresholds)
    run_id = out.name
    env = run_environment(args, run_id)
    os.environ.update(env)
    base_url = os.environ.get("DATABASE_URL") or bootstrap.database_url()
    started = time.monotonic()
    if gate_data.template_ensure(base_url, env):
        print(f"template {gate_data.TEMPLATE} built", flush=True)
    os.environ["DATABASE_URL"] = env["DATABASE_URL"] = gate_data.database_fresh(base_url)

    import django
    from django.db import connections

    django.setup()
    from perf import checkout_data

    flash = limits["flash_sale"]
    tokens = gate_data.flash_sale_prepare(flash["users"])
    (out / "flash_tokens.txt").write_text("\n".join(tokens) + "\n")
    initial = gate_data.stock_snapshot()
    connections.close_all()

    from perf.pgbouncer import pgbouncer_start

    bouncer = None if args.direct else pgbouncer_start(base_url)
    server_env = dict(env)
    # One metrics directory for both workers, so /metrics counts what all of them did.
    server_env["PROMETHEUS_MULTIPROC_DIR"] = str(out / "prometheus")
    (out / "prometheus").mkdir()
    if bouncer:
        server_env["DATABASE_URL"] = bouncer.url(gate_data.DATABASE)
    port = free_port()
    host = f"http://{HOST}:{port}"
    server = start_server(port, out / "granian.log", args, env=server_env)
    try:
        wait_ready(server, port, out / "granian.log")
        for path in ("/perf/hello/", "/api/v1/products/"):
            status, body = fetch(port, path)
            if status != 200:
                raise GateError(f"{path} answered {status}: {body[:300]!r}")
        print(f"ready after {time.monotonic() - started:.1f}s on {host}", flush=True)
        ceiling_args = (limits["ceiling"]["users"], limits["ceiling"]["seconds"] * args.scale_time)
        stats = {
            "ceiling-start": locust_run("ceiling-start", "hello.py", *ceiling_args, host, out, env)
        }
        mixed = limits["mixed"]
        counted = {"mixed": [metrics_read(port)]}
        stats["mixed"] = locust_run(
            "mixed", "mixed.py", mixed["users"], mixed["seconds"] * args.scale_time, host, out, env
        )
        counted["mixed"].append(metrics_read(port))
        initial.update(gate_data.flash_sale_open(flash["stock"]))
        flash_env = {
            **env,
            "FLASH_SKU": gate_data.FLASH_SKU,
            "FLASH_TOKENS_FILE": str(out / "flash_tokens.txt"),
            "FLASH_RESULT_FILE": str(out / "flash_sale.json"),
        }
        counted["flash_sale"] = [metrics_read(port)]
        stats["flash_sale"] = locust_run(
            "flash_sale",
            "flash_sale.py",
            flash["users"],
            flash["seconds"] * args.scale_time,
            host,
            out,
            flash_env,
        )
        checkout_data.orders_watermark()  # the server has finished what it accepted
        counted["flash_sale"].append(metrics_read(port))
        stats["ceiling-end"] = locust_run("ceiling-end", "hello.py", *ceiling_args, host, out, env)
        stop_server(server)
        initial.update(gate_deferred.sale_open(limits["deferred_sale"]["stock"]))
        stats["deferred_sale"], counted["deferred_sale"], settled_after = deferred_sale_run(
            args, out, server_env, limits["deferred_sale"]
        )
        pooled = bouncer.stats(gate_data.DATABASE) if bouncer else None
    finally:
        stop_server(server)
        if bouncer:
            bouncer.stop()

    ceilings = [ceiling_of(stats["ceiling-start"]), ceiling_of(stats["ceiling-end"])]
    ceiling = statistics.fmean(ceilings)
    # Latency limits are multiples of the ceiling's own p95 in this run: a slower or busier
    # machine moves both alike, and a slowdown of ours moves only our side.
    p95 = gate_checks.ceiling_p95(
        [gate_checks.stats_read(stats[name]) for name in ("ceiling-start", "ceiling-end")]
    )
    gates = []
    for scenario in ("mixed", "flash_sale", "deferred_sale"):
        rows = gate_checks.stats_read(stats[scenario])
        gates += gate_checks.scenario_gates(scenario, rows, limits[scenario], ceiling, p95)
        gates.append(
            gate_checks.queries_gate(
                scenario, *counted[scenario], limits[scenario]["max_queries_per_request"]
            )
        )
    seen = json.loads((out / "flash_sale.json").read_text())
    gates += gate_data.invariants_check(initial, flash["stock"], seen)
    deferred_seen = gate_deferred.result_read(out / "deferred_sale.json")
    gates += gate_deferred.invariants(limits["deferred_sale"]["stock"], deferred_seen)
    if bouncer:
        gates.append(
            gate_checks.Gate(
                "pgbouncer",
                "transactions through the bouncer",
                pooled["total_xact_count"],
                "> 0",
                pooled["total_xact_count"] > 0,
            )
        )
    connections.close_all()
    redis_forget(env["CACHE_KEY_PREFIX"])
    gate_report.plot_write(
        {
            name: Path(str(path).replace("_stats.csv", "_stats_history.csv"))
            for name, path in stats.items()
        },
        out / "timeline.png",
    )
    facts = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "command": "python -m perf.gate " + " ".join(sys.argv[1:]),
        "server": f"granian --workers {args.workers} --blocking-threads {args.blocking_threads}, "
        f"{SETTINGS_MODULE}, DEBUG off",
        "database": "through pgbouncer (transaction pooling)" if bouncer else "direct",
        "injected regression": args.inject or "none",
        "ceiling req/s (start, end)": f"{ceilings[0]:.0f}, {ceilings[1]:.0f} (mean {ceiling:.0f})",
        "ceiling p95 ms (mean of start and end)": f"{p95:.1f}",
        "flash sale": seen,
        "deferred sale": {**deferred_seen, "settled seconds after the load": round(settled_after)},
        "cpus": os.cpu_count(),
        "load average": " ".join(f"{n:.2f}" for n in os.getloadavg()),
        "seconds": round(time.monotonic() - started, 1),
    }
    return gates, facts


def deferred_sale_run(
    args: argparse.Namespace, out: Path, server_env: dict[str, str], limits: dict
) -> tuple[Path, list[dict[str, float]], float]:
    """Run the deferred sale (already open) on a server and a worker of its own; wait for its
    expiry.

    Return its stats, the /metrics totals before and after, and how long the expiry took.
    """
    env = gate_deferred.environment(server_env, limits)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(out / "prometheus-deferred")
    (out / "prometheus-deferred").mkdir()
    # The worker's own queries are not the requests' (its figures stay in its process).
    worker_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    port = free_port()
    server = start_server(port, out / "granian-deferred.log", args, env=env)
    worker = start_worker(out / "worker.log", worker_env)
    try:
        wait_ready(server, port, out / "granian-deferred.log")
        wait_worker_ready(worker, out / "worker.log")
        locust_env = {
            **env,
            "DEFERRED_SKU": gate_deferred.SKU,
            "DEFERRED_DELAY_MAX": str(limits["webhook_delay_max"]),
            "FLASH_TOKENS_FILE": str(out / "flash_tokens.txt"),
            "DEFERRED_RESULT_FILE": str(out / "deferred_sale.json"),
        }
        counted = [metrics_read(port)]
        stats = locust_run(
            "deferred_sale",
            "deferred_sale.py",
            limits["users"],
            limits["seconds"] * args.scale_time,
            f"http://{HOST}:{port}",
            out,
            locust_env,
        )
        counted.append(metrics_read(port))
        settled_after = gate_deferred.settled_wait(limits)
        if worker.poll() is not None:
            raise GateError(f"the worker exited ({worker.returncode}): see {out / 'worker.log'}")
    finally:
        stop_server(server)
        stop_server(worker)
    return stats, counted, settled_after


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perf.gate", description=__doc__)
    parser.add_argument("--thresholds", type=Path, default=gate_checks.THRESHOLDS)
    parser.add_argument(
        "--inject",
        choices=("sleep", "nplusone"),
        default=os.environ.get("PERF_INJECT_REGRESSION") or None,
        help="a deliberate regression in the product list (default: $PERF_INJECT_REGRESSION)",
    )
    parser.add_argument(
        "--direct", action="store_true", help="no pgbouncer: straight to PostgreSQL"
    )
    parser.add_argument("--report-dir", type=Path, help="default: perf/reports/gate/<time>")
    parser.add_argument(
        "--scale-time",
        type=float,
        default=1.0,
        help="multiply every run's duration (0.2: a smoke run)",
    )
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--blocking-threads", type=int, default=2, help="granian threads/worker")
    return parser.parse_args(argv)


def _stop_on_signal(signum, frame) -> None:
    # SIGTERM would end the process without running the ``finally`` blocks that stop granian and
    # pgbouncer: turn it into an exception that does.
    raise GateError(f"stopped by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop_on_signal)
    args = parse_args(argv)
    out = args.report_dir or REPORT_ROOT / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    try:
        gates, facts = measure(args, out)
    except (GateError, CompareError, RuntimeError) as exc:
        print(f"perf gate: the run broke: {exc}", file=sys.stderr)
        return 2
    summary = gate_report.summary_markdown(gates, facts, "timeline.png")
    (out / "summary.md").write_text(summary)
    (out / "summary.json").write_text(
        json.dumps({"facts": facts, "gates": [asdict(g) for g in gates]}, indent=2) + "\n"
    )
    latest = REPORT_ROOT / "latest"
    if out.parent == REPORT_ROOT:
        latest.unlink(missing_ok=True)
        latest.symlink_to(out.name)
    print(summary)
    print(f"report: {out}")
    failed = sum(not g.passed for g in gates)
    print(f"gates: {len(gates) - failed} passed, {failed} failed")  # the closing line CI reads
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
