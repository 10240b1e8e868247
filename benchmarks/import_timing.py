"""Time the three importers and their per-row ``save()`` baselines on generated files, in process.

    python -c "import django; django.setup(); from benchmarks.import_timing import main; main()" \
        DIR ROWS BASELINE_ROWS

Prints one JSON object: for each run its rows, seconds and rows/s. Run against a database with
the schema (the benchmark gate uses its test database; data is left behind). Ours and the
baseline import different SKUs of the same shape, so neither warms the other's rows.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.db import connection

from apps.catalog.imports import CatalogImporter
from apps.catalog.price_imports import PriceImporter
from apps.core.bulk.reader import RowReader
from apps.core.bulk.report import ErrorReport
from apps.core.bulk.run import bulk_run
from apps.inventory.feeds import StockFeed
from apps.inventory.models import Warehouse
from benchmarks import import_baseline
from perf.import_data import WAREHOUSES, write_catalog, write_prices, write_stock

IMPORTERS = {"catalog": CatalogImporter, "stock": StockFeed, "prices": PriceImporter}


def import_files(workdir: Path, rows: int, prefix: str, stock_seed: int = 2) -> dict[str, Path]:
    """Write a catalog, a stock feed over half its SKUs (2 warehouses each) and a price feed."""
    paths = {kind: workdir / f"{prefix.lower()}-{kind}.csv" for kind in IMPORTERS}
    write_catalog(paths["catalog"], rows, prefix=prefix)
    write_stock(paths["stock"], rows, skus=-(-rows // 2), prefix=prefix, seed=stock_seed)
    write_prices(paths["prices"], rows, prefix=prefix)
    return paths


def timed_import(
    kind: str, path: Path, importer_class=None, batch_size: int = 5000, writers: int = 2
) -> dict:
    """Run one importer over ``path`` as the command does (two writers on two cores); return its
    figures. Raises if any row was rejected."""
    importer = (importer_class or IMPORTERS[kind])()
    started = time.perf_counter()
    with ErrorReport(sys.stderr) as report:
        summary = bulk_run(
            RowReader(path, importer.columns),
            importer,
            report=report,
            batch_size=batch_size,
            writers=writers,
        )
    seconds = time.perf_counter() - started
    if not summary.ok:
        raise RuntimeError(f"{kind}: {summary.line()}")
    return {"rows": summary.read, "seconds": seconds, "rows_per_second": summary.read / seconds}


def timed_baseline(kind: str, path: Path) -> dict:
    loop = getattr(import_baseline, f"{'price' if kind == 'prices' else kind}_save_loop")
    started = time.perf_counter()
    rows = loop(path)
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}


def import_timings(workdir: Path, rows: int, baseline_rows: int) -> dict[str, dict]:
    """Time ours on ``rows`` rows and the save() loops on ``baseline_rows``; return figures."""
    Warehouse.objects.bulk_create(
        [Warehouse(code=code, name=code, priority=n) for n, code in enumerate(WAREHOUSES)],
        ignore_conflicts=True,
    )
    ours = import_files(workdir, rows, "BEN")
    baseline = import_files(workdir, baseline_rows, "BSL")
    restock = workdir / "ben-restock.csv"  # the same pairs, new quantities: the update path
    write_stock(restock, rows, skus=-(-rows // 2), prefix="BEN", seed=9)
    results = {}
    for kind in ("catalog", "stock", "prices"):
        results[f"ours_{kind}"] = timed_import(kind, ours[kind])
        if kind == "stock":
            results["ours_restock"] = timed_import(kind, restock)
    for kind in ("catalog", "stock", "prices"):
        results[f"baseline_{kind}"] = timed_baseline(kind, baseline[kind])
    return results


def main() -> None:
    workdir, rows, baseline_rows = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    connection.ensure_connection()
    print(json.dumps(import_timings(workdir, rows, baseline_rows)))
