"""Progress of a bulk run: a live bar on a terminal, a plain line every few seconds elsewhere.

Both measure progress in bytes of the file (known up front, so the ETA is honest from the first
batch) and show rows per second. The bar needs ``rich``, a dev dependency: a production install
writes the plain lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from typing import IO

LOG_EVERY_SECONDS = 5.0

ProgressCallback = Callable[[int, int], None]  # (rows read, bytes read)


@contextmanager
def bar_progress(name: str, total_bytes: int, stream: IO[str]) -> Iterator[ProgressCallback]:
    """Yield a callback drawing a live bar with rows/s and ETA on ``stream`` (a terminal)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RowsColumn(ProgressColumn):
        """Rows read so far and their rate since the start."""

        def render(self, task: Task) -> Text:
            rows = task.fields.get("rows", 0)
            elapsed = task.elapsed or 0.0
            rate = rows / elapsed if elapsed > 0 else 0.0
            return Text(f"{rows:,} rows {rate:,.0f}/s", style="progress.data.speed")

    columns = (
        TextColumn(f"[bold]{name}"),
        BarColumn(bar_width=20),
        TaskProgressColumn(),
        RowsColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task(name, total=max(total_bytes, 1), rows=0)

        def update(rows: int, done_bytes: int) -> None:
            bar.update(task, completed=done_bytes, rows=rows)

        yield update


@contextmanager
def log_progress(
    name: str, total_bytes: int, stream: IO[str], every: float = LOG_EVERY_SECONDS
) -> Iterator[ProgressCallback]:
    """Yield a callback writing a plain progress line at most every ``every`` seconds (CI)."""
    started = last = time.monotonic()

    def update(rows: int, done_bytes: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < every:
            return
        last = now
        elapsed = now - started
        share = done_bytes / total_bytes if total_bytes else 1.0
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        stream.write(
            f"{name}: {rows:,} rows ({share:.0%} of the file), "
            f"{rows / elapsed:,.0f} rows/s, ETA {eta:,.0f}s\n"
        )
        stream.flush()

    yield update


@contextmanager
def no_progress(name: str, total_bytes: int, stream: IO[str] | None = None):
    yield lambda rows, done_bytes: None


def progress_for(stream: IO[str] | None, *, enabled: bool = True):
    """Pick the reporter: a bar on a terminal (rich), log lines otherwise, nothing if disabled."""
    if not enabled or stream is None:
        return no_progress
    isatty = getattr(stream, "isatty", None)
    return bar_progress if isatty and isatty() and find_spec("rich") else log_progress
