"""Write-path throughput over HTTP in one run: checkout spread and hot, add-to-cart, /healthz.

    uv run python -m perf.checkout_compare [--duration 10] [--connections 16] [--rounds 2]
        [--scenarios healthz,spread,hot,cart] [--waits]

Scenarios (each checkout a new order with a fresh Idempotency-Key, from one of 200 buyers in
turn): ``spread`` buys 1 unit of one of 500 SKUs, ``hot`` 1 unit of the same SKU every time,
``spread3`` (optional) 1 unit each of 3 of the 500; ``cart`` adds 1 unit of one of the 500 to the
buyer's cart (``POST /api/v1/cart/lines/``); ``healthz`` is the app server's own ceiling through
the same middleware. Stock is far above what a run sells.

Uses a database of its own (``--db-name``): creates and migrates it, creates the buyers, tokens
and SKUs, empties orders and carts and resets stock. Runs granian with production settings (2
workers x 2 threads, default payment provider, limits raised) and wrk through
``perf/harness.py``. Then checks the database: orders created match the 201s wrk saw (up to those
in flight when wrk stopped), every order is paid, no stock is negative and every SKU's stock went
down by exactly the units its order lines hold.

Gates, each a ratio of the same run: spread / healthz, hot / spread, cart / healthz. Exits 1 on any
status other than 200/201, a socket error, a failed database check or a ratio under its floor; 2
when a precondition fails. ``--waits`` samples pg_stat_activity during the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from config.bootstrap import database_url_named
from perf import checkout_waits, harness
from perf.harness import REPORT_DIR, CompareError, RatioGate, Target, WrkResult

SETTINGS_MODULE = "perf.settings_perf"
DB_NAME = "shopfast_checkout_perf"
BUYERS = 200
SPREAD_SKU_COUNT = 500
SPREAD_STOCK = 1_000_000
HOT_STOCK = 10_000_000
HOT_SKU = "CKPERF-HOT"
CHECKOUTS = ("spread", "hot", "spread3")
SCENARIOS = ("healthz", *CHECKOUTS, "cart")
SPREAD3_BODIES = 1000
BODY_SEED = 3
PATHS = {"healthz": "/healthz", "cart": "/api/v1/cart/lines/"}


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
    if name == "cart":
        return [json.dumps({"sku": sku, "quantity": 1}) for sku in rng.sample(skus, len(skus))]
    raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")


def parse_scenarios(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of distinct names from {', '.join(SCENARIOS)}"
        )
    if not {"healthz", "spread", "hot"} <= set(names):
        raise argparse.ArgumentTypeError("the ratios need healthz, spread and hot")
    return names


def perf_db_name(value: str) -> str:
    """Accept only a name with "perf" in it: every run empties that database's orders."""
    if "perf" not in value or not value.replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(
            f"{value!r}: use a database of its own, named with 'perf' (its orders are deleted)"
        )
    return value


def targets(workdir: Path, tokens: list[str], scenarios: list[str], run_id: str) -> list[Target]:
    """Write the tokens and each scenario's bodies for requests.lua; return the targets."""
    token_file = workdir / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    found = []
    for name in scenarios:
        if name == "healthz":
            found.append(Target(name, PATHS[name]))
            continue
        bodies = workdir / f"{name}.jsonl"
        bodies.write_text("\n".join(scenario_bodies(name, spread_skus())) + "\n")
        checkout = name in CHECKOUTS
        found.append(
            Target(
                name,
                "/api/v1/checkout/" if checkout else PATHS[name],
                inputs=(token_file, bodies),
                key_prefix=f"{run_id}-{name}" if checkout else "",
                ok_status=201,
            )
        )
    return found


# --- environment and data -------------------------------------------------------------------------
def initial_stock() -> dict[str, int]:
    return {sku: SPREAD_STOCK for sku in spread_skus()} | {HOT_SKU: HOT_STOCK}


def configure_environment(args: argparse.Namespace) -> str:
    """Point this process (and granian, which inherits it) at the perf database and settings."""
    import psycopg

    from config import bootstrap

    base = os.environ.get("DATABASE_URL") or bootstrap.database_url()
    url = database_url_named(base, args.db_name)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": url,
            "THROTTLE_CHECKOUT": args.throttle,
            # A run adds to each buyer's few lines thousands of times.
            "CART_MAX_LINE_QUANTITY": "1000000000",
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
    """Migrate, create buyers and SKUs if missing, clear orders and carts, reset stock."""
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


# --- measuring ------------------------------------------------------------------------------------
def preflight(port: int, token: str, found: list[Target], run_id: str) -> None:
    """Each scenario answers as it should once, before any load."""
    for target in found:
        if target.inputs is None:
            status, body = harness.fetch(port, target.path)
        else:
            headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
            if target.key_prefix:
                headers["Idempotency-Key"] = f"{run_id}-pre-{target.name}"
            payload = target.inputs[1].read_text().splitlines()[0]
            status, body = harness.fetch(port, target.path, "POST", payload, headers)
        if status != target.ok_status:
            raise CompareError(f"{target.name}: answered {status}: {body[:300]!r}")


def run_problems(result: WrkResult, orders_created: int | None, connections: int) -> list[str]:
    """Return why this run is not a valid measurement (empty when it is)."""
    label = f"{result.target} round {result.round}"
    problems = [
        f"{label}: {n} responses with status {code}: {result.samples.get(code, '')}"
        for code, n in sorted(result.statuses.items())
        if code not in (200, 201)
    ]
    if result.socket_errors or (not result.statuses and result.non_2xx):
        problems.append(f"{label}: {result.socket_errors} socket errors, {result.non_2xx} non-2xx")
    if result.statuses and sum(result.statuses.values()) != result.requests:
        problems.append(f"{label}: wrk counted {result.requests} requests, the script another")
    if orders_created is not None:
        ok = result.statuses.get(201, 0)
        # wrk stops counting at the deadline; the server still finishes what was in flight.
        if not 0 <= orders_created - ok <= connections:
            problems.append(f"{label}: {orders_created} orders created for {ok} responses 201")
    return problems


def measure(args: argparse.Namespace) -> dict:
    wrk = harness.ensure_wrk()
    database = configure_environment(args)
    tokens = prepare_database()
    from perf import checkout_data

    sampler = checkout_waits.WaitSampler(database) if args.waits else None
    problems: list[str] = []

    def around(target: Target):
        mark = checkout_data.orders_watermark() if target.key_prefix else None
        if sampler:
            sampler.start(target.name)

        def after(result: WrkResult) -> None:
            if sampler:
                sampler.stop()
            created = checkout_data.orders_since(mark) if mark is not None else None
            problems.extend(run_problems(result, created, args.connections))

        return after

    run_id = secrets.token_hex(4)
    with tempfile.TemporaryDirectory(prefix="checkout-perf-") as workdir:
        found = targets(Path(workdir), tokens, args.scenarios, run_id)
        with harness.server_running(args, "granian-checkout.log") as port:
            preflight(port, tokens[0], found, run_id)
            results = harness.rounds(wrk, port, found, args, around)
    problems += checkout_data.state_problems(initial_stock())
    summary = harness.summarize(results)
    wanted = [
        RatioGate("spread", "healthz", args.min_spread),
        RatioGate("hot", "spread", args.min_ratio),
        RatioGate("cart", "healthz", args.min_cart),
    ]
    gates = harness.gates_report(summary, [g for g in wanted if g.numerator in summary])
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": harness.git_commit(),
        "command": "uv run python -m perf.checkout_compare " + " ".join(sys.argv[1:]),
        "settings": SETTINGS_MODULE,
        "database": args.db_name,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "load": {k: getattr(args, k) for k in ("threads", "connections", "duration", "rounds")},
        "runs": [asdict(r) for r in results],
        "summary": summary,
        "gates": gates,
        "waits": sampler.report() if sampler else None,
        "problems": problems,
        "passed": not problems and all(g["passed"] for g in gates),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perf.checkout_compare", description=__doc__)
    harness.load_args(parser)
    parser.add_argument(
        "--scenarios", type=parse_scenarios, default=["healthz", "spread", "hot", "cart"]
    )
    parser.add_argument(
        "--min-spread",
        type=harness.positive(float),
        default=0.09,
        help="floor of spread/healthz (measured 0.106-0.112; two commits 0.076-0.096; goal 0.10)",
    )
    parser.add_argument(
        "--min-ratio", type=harness.positive(float), default=0.70, help="floor of hot/spread"
    )
    parser.add_argument(
        "--min-cart",
        type=harness.positive(float),
        default=0.16,
        help="floor of cart/healthz (measured 0.22-0.29, 0.059 before; goal 0.15)",
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
    print()
    print(harness.markdown_table(report["summary"]))
    print()
    print(harness.gates_table(report["gates"]))
    if report["waits"]:
        print(checkout_waits.waits_table(report["waits"]))
    for problem in report["problems"]:
        print(f"INVALID: {problem}", file=sys.stderr)
    harness.report_write(args.report, report)
    if not report["passed"]:
        print("checkout_compare: FAILED (invalid run or a ratio under its floor)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
