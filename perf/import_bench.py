"""Import throughput at scale: the real commands as subprocesses, rows/s and peak RSS of each.

    uv run python -m perf.import_bench --rows 1000000 [--baseline-rows 5000] [--compare-rows N]

Recreates the database ``--database`` (default ``shopfast_import_bench``) on the server the
settings resolve (DATABASE_URL's host, else local PostgreSQL), migrates it and creates the
reference data (``seed_catalog --products 0``: category tree, tags, warehouses). Then writes the
files and runs, each as ``manage.py <command> FILE`` in its own process:

- ``catalog``: ROWS catalog rows (4 variants per product on average), into an empty catalog;
- ``catalog again``: the same file, nothing changed (what a nightly ERP re-import costs);
- ``stock new``: ROWS stock rows (half the SKUs, 2 warehouses each) where none existed;
- ``stock``: the same pairs, every quantity changed: the lock-and-update path for every row;
- ``stock again``: that file once more: a repeated feed, nothing to lock or write;
- ``prices``: a new price for the first ROWS SKUs;
- the per-row ``save()`` baselines (benchmarks/import_baseline.py) on ``--baseline-rows`` rows.

Peak RSS is each child's ``ru_maxrss`` (os.wait4). ``--compare-rows N`` also times COPY + SQL
(ours) against the ORM bulk API (benchmarks/import_orm.py) on N rows, each in a fresh database.
Prints a Markdown table, checks the goals, writes perf/reports/import_bench.json; exits 1 if a
goal is missed (``--no-gate`` to only report).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "perf" / "reports" / "import_bench.json"
GOALS = {
    "catalog_seconds": 60.0,
    "stock_rows_per_second": 100_000,
    "peak_rss_mb": 300,
    "catalog_speedup": 50.0,
}
CHILD = (
    "import json, sys, django; django.setup(); "
    "from benchmarks.import_timing import timed_baseline, timed_import; "
    "from benchmarks.import_orm import ORM_IMPORTERS; from pathlib import Path; "
    "kind, path, how = sys.argv[1:4]; "
    "result = timed_baseline(kind, Path(path)) if how == 'baseline' else timed_import("
    "kind, Path(path), ORM_IMPORTERS[kind] if how == 'orm' else None); "
    "print(json.dumps(result))"
)


def database_env(name: str) -> dict[str, str]:
    """Environment for children: DATABASE_URL pointing at database ``name``, DEBUG off."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopfast")
    parts = urlsplit(url)
    return {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
    }


def run(command: list[str], env: dict[str, str], label: str) -> dict:
    """Run ``command``; return its wall seconds, peak RSS (MB, os.wait4) and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode:
        raise SystemExit(f"{label} failed ({child.returncode}):\n{stdout[-2000:]}{stderr[-3000:]}")
    return {"wall_seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "stdout": stdout}


def manage(args: list[str], env: dict[str, str]) -> dict:
    return run([sys.executable, "manage.py", *args], env, " ".join(args[:2]))


def recreate_database(name: str) -> dict[str, str]:
    env = database_env(name)
    admin = database_env("postgres")
    sql = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE); CREATE DATABASE "{name}";'
    code = (
        "import psycopg, os, sys; c = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)"
    )
    for statement in sql.split("; "):
        run(
            [sys.executable, "-c", f"{code}; c.execute({statement.rstrip(';')!r})"],
            admin,
            statement,
        )
    manage(["migrate", "-v", "0"], env)
    manage(["seed_catalog", "--products", "0"], env)
    return env


def summary_rate(stdout: str) -> tuple[int, float]:
    """(rows read, seconds) from an import command's summary line."""
    line = next(row for row in stdout.splitlines() if " rows read, " in row)
    rows = int(line.split(": ", 1)[1].split(" rows read")[0].replace(",", ""))
    seconds = float(line.split(" rejected in ")[1].split("s ")[0])
    return rows, seconds


def write_files(workdir: Path, rows: int, prefix: str) -> dict[str, Path]:
    sys.path.insert(0, str(BASE_DIR))
    from perf.import_data import write_catalog, write_prices, write_stock

    paths = {
        name: workdir / f"{prefix}-{name}.csv" for name in ("catalog", "stock", "restock", "prices")
    }
    write_catalog(paths["catalog"], rows, prefix=prefix)
    write_stock(paths["stock"], rows, skus=-(-rows // 2), prefix=prefix, seed=2)
    write_stock(paths["restock"], rows, skus=-(-rows // 2), prefix=prefix, seed=9)
    write_prices(paths["prices"], rows, prefix=prefix)
    return paths


def bench_commands(env: dict[str, str], paths: dict[str, Path]) -> list[dict]:
    steps = [
        ("catalog", "import_catalog", "catalog"),
        ("catalog again", "import_catalog", "catalog"),
        ("stock new", "import_stock", "stock"),
        ("stock", "import_stock", "restock"),
        ("stock again", "import_stock", "restock"),
        ("prices", "import_prices", "prices"),
    ]
    results = []
    for label, command, file in steps:
        done = manage([command, str(paths[file]), "--no-progress"], env)
        rows, seconds = summary_rate(done["stdout"])
        results.append(
            {
                "run": label,
                "rows": rows,
                "seconds": seconds,
                "rows_per_second": rows / seconds,
                "wall_seconds": done["wall_seconds"],
                "peak_rss_mb": done["peak_rss_mb"],
            }
        )
        print(
            f"  {label}: {rows:,} rows in {seconds:.1f}s ({rows / seconds:,.0f} rows/s), "
            f"peak RSS {done['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    return results


def bench_children(env: dict[str, str], paths: dict[str, Path], how: str) -> list[dict]:
    results = []
    for kind, file in (("catalog", "catalog"), ("stock", "stock"), ("prices", "prices")):
        done = run([sys.executable, "-c", CHILD, kind, str(paths[file]), how], env, kind)
        figures = json.loads(done["stdout"].strip().splitlines()[-1])
        results.append({"run": f"{kind} ({how})", **figures, "peak_rss_mb": done["peak_rss_mb"]})
        print(
            f"  {kind} ({how}): {figures['rows']:,} rows in {figures['seconds']:.1f}s "
            f"({figures['rows_per_second']:,.0f} rows/s)",
            flush=True,
        )
    return results


def table(results: list[dict]) -> str:
    lines = ["| run | rows | seconds | rows/s | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {r['run']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows_per_second']:,.0f} | "
        f"{r['peak_rss_mb']:.0f} |"
        for r in results
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    parser.add_argument("--compare-rows", type=int, default=0)
    parser.add_argument("--database", default="shopfast_import_bench")
    parser.add_argument("--no-gate", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        workdir = Path(tmp)
        print(f"writing files: {args.rows:,} rows ...", flush=True)
        paths = write_files(workdir, args.rows, "BEN")
        baseline_paths = write_files(workdir, args.baseline_rows, "BSL")
        print(f"fresh database {args.database} ...", flush=True)
        env = recreate_database(args.database)
        results = bench_commands(env, paths)
        results += bench_children(env, baseline_paths, "baseline")
        compared = []
        if args.compare_rows:
            small = write_files(workdir, args.compare_rows, "CMP")
            for how in ("copy", "orm"):
                print(f"compare {how} on {args.compare_rows:,} rows (fresh database) ...")
                env = recreate_database(f"{args.database}_{how}")
                compared += bench_children(env, small, how)
    by_run = {r["run"]: r for r in results}
    figures = {
        "catalog_seconds": by_run["catalog"]["seconds"],
        "stock_rows_per_second": by_run["stock"]["rows_per_second"],
        "stock_again_rows_per_second": by_run["stock again"]["rows_per_second"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results if "(" not in r["run"]),
        "catalog_speedup": by_run["catalog"]["rows_per_second"]
        / by_run["catalog (baseline)"]["rows_per_second"],
    }
    missed = [
        name
        for name, goal in GOALS.items()
        if (
            figures[name] > goal
            if name in ("catalog_seconds", "peak_rss_mb")
            else figures[name] < goal
        )
    ]
    print("\n" + table(results + compared) + "\n")
    for name, value in figures.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else f" (goal {goal:,}) {'MISSED' if name in missed else 'ok'}"
        print(f"{name}: {value:,.1f}{verdict}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "rows": args.rows,
                "results": results,
                "compare": compared,
                "figures": figures,
                "missed": missed,
            },
            indent=2,
        )
    )
    print(f"report: {REPORT.relative_to(BASE_DIR)}")
    return 1 if missed and not args.no_gate else 0


if __name__ == "__main__":
    sys.exit(main())
