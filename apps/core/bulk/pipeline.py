"""Run an importer over a reader: batch, validate, write each batch in one transaction, report.

An importer validates a whole batch first (pure Python, no writes), then writes the valid rows
inside the ``transaction.atomic()`` this module opens, so a batch commits whole or not at all.
Should the database still refuse a batch (a constraint validation could not foresee), the batch is
split in halves until the refused rows are isolated and reported: valid rows are never lost.
A deadlock with a concurrent writer retries the batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from queue import Full, Queue
from threading import Event, Thread
from typing import Any, NamedTuple, Protocol

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    OperationalError,
    connection,
    transaction,
)
from django.db import reset_queries as django_reset_queries
from psycopg import errors as pg_errors

from apps.core.bulk.reader import Row, RowReader
from apps.core.bulk.report import RowError

DEFAULT_BATCH_SIZE = 5000
DEADLOCK_RETRIES = 3
QUEUE_BATCHES = 2
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


class Importer(Protocol):
    """What ``bulk_run`` drives. Valid rows are tuples whose first item is the line number."""

    name: str
    columns: tuple[str, ...]

    def validate(self, rows: list[Row]) -> tuple[list[Sequence[Any]], list[RowError]]:
        """Split a batch into rows ready to write and errors; must not write."""

    def write(self, rows: list[Sequence[Any]]) -> list[RowError]:
        """Write ``rows`` (inside the batch's transaction); return the rows it refused."""

    def finish(self) -> None:
        """Run once after the last batch (e.g. ANALYZE)."""


class BatchFailed(Exception):
    """The database failed for a reason other than the rows (connection lost, disk full...)."""

    def __init__(self, first_line: int, last_line: int, error: DatabaseError) -> None:
        self.first_line, self.last_line = first_line, last_line
        super().__init__(f"lines {first_line}-{last_line} were not written: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _retryable(error: OperationalError) -> bool:
    return isinstance(error.__cause__, RETRYABLE)


def _batch_settings() -> None:
    # JIT compiles a plan whose estimated cost is high, and bulk statements over transition
    # tables and temporary tables (no statistics) get wildly high estimates: the listing trigger
    # on 5,000 updated stock rows spent 464 of its 522 ms compiling a plan that ran in 18 ms.
    # SET LOCAL ends with the transaction (safe behind pgbouncer in transaction mode).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")


def batch_write(importer: Importer, rows: list[Sequence[Any]]) -> list[RowError]:
    """Write ``rows`` in one transaction; isolate and report rows the database refuses."""
    if not rows:
        return []
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with transaction.atomic():
                _batch_settings()
                return importer.write(rows)
        except OperationalError as error:
            if not _retryable(error) or attempt == DEADLOCK_RETRIES - 1:
                raise
        except (IntegrityError, DataError) as error:
            if len(rows) == 1:
                return [RowError(rows[0][0], "", f"refused by the database: {_first_line(error)}")]
            middle = len(rows) // 2
            return batch_write(importer, rows[:middle]) + batch_write(importer, rows[middle:])
    raise AssertionError("unreachable")


class Batch(NamedTuple):
    valid: list[Sequence[Any]]
    errors: list[RowError]
    rows_read: int
    bytes_read: int


DONE = object()  # the end of a queue


def put_unless_stopped(out: Queue, item: object, stop: Event) -> bool:
    """Put ``item`` on ``out``, waiting for room unless ``stop`` is set; return whether it went."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return True
        except Full:
            continue
    return False


def validated_batches(reader: RowReader, importer: Importer, batch_size: int) -> Iterator[Batch]:
    """Read ``reader`` in batches of ``batch_size`` rows (or errors), each validated."""
    rows: list[Row] = []
    errors: list[RowError] = []
    for item in reader:
        if type(item) is RowError:
            errors.append(item)
        else:
            rows.append(item)
        if len(rows) >= batch_size or len(errors) >= batch_size:
            valid, invalid = importer.validate(rows)
            yield Batch(valid, errors + invalid, reader.rows_read, reader.bytes_read)
            rows, errors = [], []
    if rows or errors:
        valid, invalid = importer.validate(rows)
        yield Batch(valid, errors + invalid, reader.rows_read, reader.bytes_read)


def _produce(reader: RowReader, importer: Importer, batch_size: int, out: Queue, stop: Event):
    """Read and validate batches into ``out`` (runs in its own thread; never touches the DB)."""

    def put(item: object) -> bool:
        return put_unless_stopped(out, item, stop)

    try:
        for batch in validated_batches(reader, importer, batch_size):
            if not put(batch):
                return
        put(DONE)
    except BaseException as error:  # handed to the writing thread, which re-raises it
        put(error)


def serial_run(reader, importer, summary, report, batch_size, progress, after_batch) -> None:
    """Write every batch on this thread's connection (the one tests and callers' atomic use)."""
    batches: Queue = Queue(maxsize=QUEUE_BATCHES)
    stop = Event()
    producer = Thread(
        target=_produce, args=(reader, importer, batch_size, batches, stop), daemon=True
    )
    producer.start()
    try:
        while (batch := batches.get()) is not DONE:
            if isinstance(batch, BaseException):
                raise batch
            refused = checked_write(importer, batch.valid)
            summary.written += len(batch.valid) - len({error.line for error in refused})
            summary.read = batch.rows_read
            report.add([*batch.errors, *refused])
            django_reset_queries()  # DEBUG keeps every SQL statement: memory must stay flat
            if progress:
                progress(batch.rows_read, batch.bytes_read)
            if after_batch and batch.valid:
                after_batch(summary.written)
    finally:
        stop.set()
        producer.join()


def checked_write(importer: Importer, rows: list[Sequence[Any]]) -> list[RowError]:
    """``batch_write``, turning a failure of the database itself into ``BatchFailed``."""
    try:
        return batch_write(importer, rows)
    except DatabaseError as error:
        lines = [row[0] for row in rows] or [0]
        raise BatchFailed(lines[0], lines[-1], error) from error
