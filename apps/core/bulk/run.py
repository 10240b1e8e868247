"""``bulk_run``: the one entry to the bulk pipeline, serial or with parallel writers."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from apps.core.bulk.parallel import parallel_run
from apps.core.bulk.pipeline import DEFAULT_BATCH_SIZE, Importer, serial_run
from apps.core.bulk.progress import ProgressCallback
from apps.core.bulk.reader import RowReader
from apps.core.bulk.report import ErrorReport, RunSummary


def bulk_run(
    reader: RowReader,
    importer: Importer,
    *,
    report: ErrorReport,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    after_batch: Callable[[int], None] | None = None,
    writers: int = 1,
) -> RunSummary:
    """Stream ``reader`` through ``importer`` batch by batch; return the run's summary.

    Reading and validating run one batch ahead in a second thread while batches are written
    (psycopg releases the GIL while it waits), so parsing and writing overlap; at most
    ``QUEUE_BATCHES`` validated batches wait per writer. With ``writers`` > 1, that many threads
    write concurrently, each on its own connection (``parallel``). ``after_batch(rows_written)``
    runs after each commit (tests use it to interleave concurrent writers). Raises
    ``BatchFailed`` when the database itself fails.
    """
    if batch_size < 1 or writers < 1:
        raise ValueError("batch_size and writers must be >= 1")
    summary = RunSummary(importer.name)
    started = time.perf_counter()
    try:
        with _few_collections():
            if writers > 1:
                parallel_run(reader, importer, summary, report, batch_size, writers, progress)
            else:
                serial_run(reader, importer, summary, report, batch_size, progress, after_batch)
        importer.finish()
    finally:
        summary.rejected = summary.read - summary.written
        summary.errors = report.count
        summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect garbage less often while rows stream through (restored afterwards).

    Every row allocates tuples the cyclic collector tracks; at the default threshold (700) it
    ran so often that reading and validating a stock feed took 4.9 us a row instead of 3.1.
    ``gc.freeze()`` also keeps the long-lived objects of Django out of every full collection.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
