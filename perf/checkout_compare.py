"""Checkout throughput over HTTP in one run: orders spread over many SKUs vs every buyer on one SKU.

    uv run python -m perf.checkout_compare [--duration 10] [--connections 16] [--rounds 2]
        [--scenarios spread,hot] [--min-ratio 0.70] [--waits]

Scenarios (each request is a new order with a fresh Idempotency-Key, from one of 200 buyers in
turn): ``spread`` buys 1 unit of one of 500 SKUs, ``hot`` buys 1 unit of the same SKU every time,
``spread3`` (optional) buys 1 unit each of 3 of the 500 SKUs. Stock is far above what a run sells.

Uses a database of its own (``--db-name``, on the server of ``DATABASE_URL``, else local
PostgreSQL): creates and migrates it, creates the buyers, tokens and SKUs, and empties its orders
and resets its stock before each run. Starts granian like ``perf.http_compare`` (2 workers x 2
threads, production settings, DEBUG off, default payment provider, checkout throttle raised), runs
``wrk -s perf/checkout.lua`` per scenario, ``--rounds`` times in alternating order, and prints
orders/s, p50 and p99 per scenario and the ratio hot/spread (also in
``perf/reports/checkout_compare.json``). Then checks the database: orders created match the 201s wrk
saw (up to the requests still in flight when wrk stopped), every order is paid, no stock is negative
and every SKU's stock went down by exactly the units its order lines hold.

Exits 1 on any response other than 201, a socket error, a failed database check, or a hot/spread
ratio under ``--min-ratio``; 2 when a precondition fails. ``--waits`` samples pg_stat_activity
during the runs and prints what the busy sessions waited on.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import string
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from config.bootstrap import database_url_named
from perf import checkout_waits
from perf.checkout_report import (
    CheckoutRun,
    markdown_table,
    run_from_output,
    run_problems,
    summarize,
)
from perf.http_compare import (
    HOST,
    CompareError,
    ensure_wrk,
    free_port,
    git_commit,
    start_server,
    stop_server,
    wait_ready,
)

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT_DIR = BASE_DIR / "perf" / "reports"
LUA_SCRIPT = BASE_DIR / "perf" / "checkout.lua"
SETTINGS_MODULE = "perf.settings_perf"
CHECKOUT_PATH = "/api/v1/checkout/"
DB_NAME = "shopfast_checkout_perf"
BUYERS = 200
SPREAD_SKU_COUNT = 500
SPREAD_STOCK = 1_000_000
HOT_STOCK = 10_000_000
HOT_SKU = "CKPERF-HOT"
SCENARIOS = ("spread", "hot", "spread3")
SPREAD3_BODIES = 1000
BODY_SEED = 3


# --- scenarios ----------------------------------------------------------------------------------
def spread_skus(count: int = SPREAD_SKU_COUNT) -> list[str]:
    return [f"CKPERF-S{i:04d}" for i in range(count)]


def _body(skus: list[str]) -> str:
    return json.dumps({"lines": [{"sku": sku, "quantity": 1} for sku in skus]})


def scenario_bodies(name: str, skus: list[str], *, seed: int = BODY_SEED) -> list[str]:
    """Return the request bodies wrk cycles through for scenario ``name``, one JSON per line."""
    rng = random.Random(seed)
    if name == "hot":
        return [_body([HOT_SKU])]
    if name == "spread":
        # Each SKU once in a shuffled order: concurrent requests land on different rows.
        return [_body([sku]) for sku in rng.sample(skus, len(skus))]
    if name == "spread3":
        # Lines in random order: the service must lock in pk order whatever order they come in.
        return [_body(rng.sample(skus, 3)) for _ in range(SPREAD3_BODIES)]
    raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")


def parse_scenarios(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of distinct names from {', '.join(SCENARIOS)}"
        )
    if not {"spread", "hot"} <= set(names):
        raise argparse.ArgumentTypeError("the ratio needs both spread and hot")
    return names


def perf_db_name(value: str) -> str:
    """Accept only a name with "perf" in it: every run empties that database's orders."""
    if "perf" not in value or not value.replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(
            f"{value!r}: use a database of its own, named with 'perf' (its orders are deleted)"
        )
    return value


def key_prefix(run_id: str, scenario: str, round_: int) -> str:
    prefix = f"{run_id}-{scenario}-{round_}"
    if len(prefix) > 40:  # leaves room for "-thread-counter" within the 64-char limit
        raise ValueError(f"Idempotency-Key prefix too long: {prefix!r}")
    return prefix


# --- environment and data -------------------------------------------------------------------------
def initial_stock() -> dict[str, int]:
    return {sku: SPREAD_STOCK for sku in spread_skus()} | {HOT_SKU: HOT_STOCK}


def configure_environment(args: argparse.Namespace) -> str:
    """Point this process (and granian, which inherits it) at the perf database and settings."""
    import psycopg

    from config import bootstrap

    base = os.environ.get("DATABASE_URL") or bootstrap.database_url()
    url = database_url_named(base, args.db_name)
    alphabet = string.ascii_letters + string.digits
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
            "DATABASE_URL": url,
            "THROTTLE_CHECKOUT": args.throttle,
            "DEBUG": "false",
            "PROFILING": "false",  # silk's own queries and writes are not the code measured
        }
    )
    os.environ.setdefault("CACHE_KEY_PREFIX", "shopfast-checkout-perf")
    os.environ.pop("PAYMENT_PROVIDER", None)  # the default InstantProvider
    try:
        bootstrap.ensure_database_exists(url)
    except psycopg.Error as exc:
        raise CompareError(f"cannot create or reach database {args.db_name}: {exc}") from exc
    return url


def prepare_database() -> list[str]:
    """Migrate, create buyers and SKUs if missing, clear old orders, reset stock; return tokens."""
    import django
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    django.setup()
    from perf import checkout_data

    try:
        call_command("migrate", interactive=False, verbosity=0)
        tokens = checkout_data.buyers_ensure(BUYERS)
        checkout_data.catalog_ensure(spread_skus(), HOT_SKU)
        checkout_data.state_reset(initial_stock())
    except DatabaseError as exc:
        raise CompareError(f"preparing the database failed: {exc}") from exc
    finally:
        connection.close()
    return tokens


def write_inputs(workdir: Path, tokens: list[str], scenarios: list[str]) -> dict[str, list[Path]]:
    """Write the files checkout.lua reads: the tokens and, per scenario, its request bodies."""
    token_file = workdir / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    files = {}
    for name in scenarios:
        bodies = workdir / f"{name}.jsonl"
        bodies.write_text("\n".join(scenario_bodies(name, spread_skus())) + "\n")
        files[name] = [token_file, bodies]
    return files


# --- measuring ------------------------------------------------------------------------------------
def post_checkout(port: int, token: str, body: str, key: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Token {token}",
            "Idempotency-Key": key,
        }
        conn.request("POST", CHECKOUT_PATH, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_wrk(wrk: str, port: int, args, inputs: list[Path], prefix: str, seconds: float) -> str:
    command = [
        *(wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s"),
        *("--timeout", "5s", "--latency", "-s", str(LUA_SCRIPT)),
        f"http://{HOST}:{port}{CHECKOUT_PATH}",
        *("--", *map(str, inputs), prefix, str(args.threads)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CompareError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def run_rounds(wrk, port, args, tokens, files, sampler) -> list[CheckoutRun]:
    """Check each scenario answers 201, warm up, then run the interleaved rounds."""
    from perf import checkout_data

    run_id = secrets.token_hex(4)
    for name in args.scenarios:
        body = files[name][1].read_text().splitlines()[0]
        status, answer = post_checkout(port, tokens[0], body, f"{run_id}-pre-{name}")
        if status != 201:
            raise CompareError(f"{name}: checkout answered {status}: {answer[:300]!r}")
    for name in args.scenarios:
        run_wrk(wrk, port, args, files[name], key_prefix(run_id, name, 0), args.warmup)
    runs = []
    for round_ in range(1, args.rounds + 1):
        # Alternate the order so slow drift (thermal, neighbours) does not favour one scenario.
        names = args.scenarios if round_ % 2 else list(reversed(args.scenarios))
        for name in names:
            mark = checkout_data.orders_watermark()
            prefix = key_prefix(run_id, name, round_)
            if sampler:
                sampler.start(name)
            output = run_wrk(wrk, port, args, files[name], prefix, args.duration)
            if sampler:
                sampler.stop()
            run = run_from_output(output, name, round_, checkout_data.orders_since(mark))
            print(
                f"round {round_} {name:8s} {run.orders_per_sec:8.1f} orders/s "
                f"p50 {run.p50_ms:.2f} ms p99 {run.p99_ms:.2f} ms statuses {run.statuses}",
                flush=True,
            )
            runs.append(run)
    return runs


def measure(args: argparse.Namespace) -> dict:
    wrk = ensure_wrk()
    database = configure_environment(args)
    tokens = prepare_database()
    from perf import checkout_data

    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = REPORT_DIR / "granian-checkout.log"
    sampler = checkout_waits.WaitSampler(database) if args.waits else None
    with tempfile.TemporaryDirectory(prefix="checkout-perf-") as workdir:
        files = write_inputs(Path(workdir), tokens, args.scenarios)
        port = free_port()
        server = start_server(port, log_path, args)
        try:
            wait_ready(server, port, log_path)
            runs = run_rounds(wrk, port, args, tokens, files, sampler)
        finally:
            stop_server(server)

    problems = [p for run in runs for p in run_problems(run, args.connections)]
    problems += checkout_data.state_problems(initial_stock())
    summary = summarize(runs, args.scenarios)
    ratio = round(summary["hot"]["orders_per_sec"] / summary["spread"]["orders_per_sec"], 3)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "command": "uv run python -m perf.checkout_compare " + " ".join(sys.argv[1:]),
        "server": (
            f"granian --interface wsgi --workers {args.workers} "
            f"--blocking-threads {args.blocking_threads}"
        ),
        "settings": SETTINGS_MODULE,
        "database": args.db_name,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "buyers": BUYERS,
        "spread_skus": SPREAD_SKU_COUNT,
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
        },
        "runs": [asdict(r) for r in runs],
        "summary": summary,
        "hot_to_spread": ratio,
        "min_ratio": args.min_ratio,
        "waits": sampler.report() if sampler else None,
        "problems": problems,
        "passed": not problems and ratio >= args.min_ratio,
    }


def positive(kind: type) -> Callable[[str], int | float]:
    """Return an argparse type accepting numbers of ``kind`` above zero."""

    def parse(value: str) -> int | float:
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if not number > 0:
            raise argparse.ArgumentTypeError(f"{value!r} is not a {kind.__name__} above 0")
        return number

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perf.checkout_compare", description=__doc__)
    parser.add_argument("--duration", type=positive(float), default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=positive(int), default=16)
    parser.add_argument("--threads", type=positive(int), default=2, help="wrk threads")
    parser.add_argument("--workers", type=positive(int), default=2, help="granian worker processes")
    parser.add_argument(
        "--blocking-threads", type=positive(int), default=2, help="granian threads/worker"
    )
    parser.add_argument("--rounds", type=positive(int), default=2, help="passes over the scenarios")
    parser.add_argument(
        "--warmup", type=positive(float), default=3, help="seconds of warm-up per scenario"
    )
    parser.add_argument("--scenarios", type=parse_scenarios, default=["spread", "hot"])
    parser.add_argument(
        "--min-ratio", type=positive(float), default=0.70, help="gate on hot/spread"
    )
    parser.add_argument(
        "--db-name", type=perf_db_name, default=DB_NAME, help="database of its own (orders emptied)"
    )
    parser.add_argument("--throttle", default="1000000/min", help="THROTTLE_CHECKOUT for the run")
    parser.add_argument("--waits", action="store_true", help="sample pg_stat_activity wait events")
    parser.add_argument("--report", type=Path, default=REPORT_DIR / "checkout_compare.json")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk opens one per thread at least)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = measure(args)
    except CompareError as exc:
        print(f"checkout_compare: {exc}", file=sys.stderr)
        return 2
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n")

    print()
    print(markdown_table(report["summary"]))
    print()
    print(f"hot / spread: {report['hot_to_spread']:.3f} (gate {args.min_ratio:g})")
    if report["waits"]:
        print(checkout_waits.waits_table(report["waits"]))
    for problem in report["problems"]:
        print(f"INVALID: {problem}", file=sys.stderr)
    print(f"report: {args.report}")
    if not report["passed"]:
        print("checkout_compare: FAILED (invalid run or ratio under the gate)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
