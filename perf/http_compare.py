"""Throughput over HTTP in one run: hello-world, our product list cached and uncached, a baseline.

    uv run python -m perf.http_compare [--duration 10] [--connections 16] [--rounds 2]

Starts granian (2 workers x 2 threads) with ``perf.settings_perf`` (production settings plus the
perf-only URLconf), checks every target answers 200 with a full page, then runs wrk against each
(``perf/harness.py``). Prints the table and the ratios (also in
``perf/reports/http_compare.json``). Exits 1 on any error response or socket error, or when a
ratio is under its floor: uncached/baseline (the view against a DRF ModelViewSet), cached/hello
(the cache against the app server's ceiling), uncached/hello (the view itself against that
ceiling). Ratios within one run are the only fair gate on a shared machine.

Data: the database the settings resolve (``DATABASE_URL``, else local PostgreSQL ``shopfast``),
created and migrated when needed; it is seeded with ``manage.py seed_catalog --products 2000
--seed 7`` when it lists fewer than 100 products. Installs wrk with apt-get when it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from perf import harness
from perf.harness import BASE_DIR, REPORT_DIR, CompareError, RatioGate, Target

SETTINGS_MODULE = "perf.settings_perf"
PAGE_SIZE = 24
MIN_LISTED = 100
SEED_ARGS = ["--products", "2000", "--seed", "7"]
TARGETS = [
    Target("hello", "/perf/hello/"),
    # The production URL: after the first request every one is a cache hit (L1).
    Target("cached", "/api/v1/products/"),
    # The same view with every cache layer off (no response cache, cachalot disabled).
    Target("uncached", "/perf/uncached/products/"),
    Target("baseline", "/perf/baseline/products/"),
]


def ensure_catalog() -> int:
    """Create and migrate the database the settings resolve where needed, seed it when it lists
    too few products; return the count."""
    import django
    import psycopg
    from django.core.management import call_command
    from django.db import DatabaseError, connections

    from config import bootstrap

    try:
        # A new machine has no "shopfast" database yet (make serve creates it, CI does not run it).
        bootstrap.ensure_database_exists(os.environ.get("DATABASE_URL") or bootstrap.database_url())
    except psycopg.Error as exc:
        raise CompareError(f"cannot create or reach the database: {exc}") from exc
    django.setup()
    from apps.catalog.models import LISTED, Product

    try:
        call_command("migrate", interactive=False, verbosity=0)
        listed = Product.objects.filter(LISTED).count()
        if listed < MIN_LISTED:
            print(f"{listed} listed products: seed_catalog {' '.join(SEED_ARGS)}", flush=True)
            manage = [sys.executable, str(BASE_DIR / "manage.py"), "seed_catalog", *SEED_ARGS]
            if subprocess.run(manage, cwd=BASE_DIR, env=os.environ.copy()).returncode != 0:
                raise CompareError("seed_catalog failed")
            listed = Product.objects.filter(LISTED).count()
    except DatabaseError as exc:
        raise CompareError(f"database not ready: {exc}") from exc
    finally:
        connections.close_all()
    if listed < PAGE_SIZE + 1:
        raise CompareError(f"only {listed} listed products: a full page needs {PAGE_SIZE + 1}")
    return listed


def preflight(port: int) -> None:
    """Every target answers 200 (no redirect) and each list holds a full page."""
    for target in TARGETS:
        status, body = harness.fetch(port, target.path)
        if status != 200:
            raise CompareError(f"{target.name} {target.path} answered {status}: {body[:300]!r}")
        if target.name != "hello" and len(json.loads(body)["results"]) != PAGE_SIZE:
            raise CompareError(f"{target.name} {target.path} lists no full page")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perf.http_compare", description=__doc__)
    harness.load_args(parser)
    parser.add_argument(
        "--min-ratio", type=harness.positive(float), default=2.5, help="floor of uncached/baseline"
    )
    parser.add_argument(
        "--min-cached-ratio",
        type=harness.positive(float),
        default=0.75,
        help="floor of cached/hello (measured 0.78-0.94 on a shared 2-core machine)",
    )
    parser.add_argument(
        "--min-uncached-ratio",
        type=harness.positive(float),
        default=0.24,
        # The same commit measures 0.33-0.34 on one machine of this kind and 0.267 on another
        # (whose hello-world is 30% faster): a floor at 0.27 failed an unchanged list there.
        help="floor of uncached/hello (measured 0.27-0.34 by machine; ORM query 0.16-0.21; "
        "goal 0.30)",
    )
    parser.add_argument("--report", type=Path, default=REPORT_DIR / "http_compare.json")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict:
    wrk = harness.ensure_wrk()
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["PROFILING"] = "false"  # silk's own queries and writes are not the code measured
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(40)
    listed = ensure_catalog()  # also resolves DATABASE_URL/REDIS_URL into os.environ for granian
    with harness.server_running(args, "granian.log") as port:
        preflight(port)
        results = harness.rounds(wrk, port, TARGETS, args)
    summary = harness.summarize(results)
    gates = harness.gates_report(
        summary,
        [
            RatioGate("uncached", "baseline", args.min_ratio),
            RatioGate("cached", "hello", args.min_cached_ratio),
            RatioGate("uncached", "hello", args.min_uncached_ratio),
        ],
    )
    errors = sum(s["errors"] for s in summary.values())
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": harness.git_commit(),
        "command": "uv run python -m perf.http_compare " + " ".join(sys.argv[1:]),
        "settings": SETTINGS_MODULE,
        "cpus": os.cpu_count(),
        "listed_products": listed,
        "load": {k: getattr(args, k) for k in ("threads", "connections", "duration", "rounds")},
        "runs": [asdict(r) for r in results],
        "summary": summary,
        "gates": gates,
        "passed": errors == 0 and all(g["passed"] for g in gates),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = measure(args)
    except CompareError as exc:
        print(f"http_compare: {exc}", file=sys.stderr)
        return 2
    print()
    print(harness.markdown_table(report["summary"]))
    print()
    print(harness.gates_table(report["gates"]))
    harness.report_write(args.report, report)
    if not report["passed"]:
        print("http_compare: FAILED (errors or a ratio under its floor)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
