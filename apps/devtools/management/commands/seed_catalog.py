"""``manage.py seed_catalog --products N [--seed S]``: a realistic, idempotent demo catalog."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, OutputWrapper
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from apps.catalog.cache import catalog_invalidate
from apps.core.cli import whole_number
from apps.devtools.seeding import DEFAULT_BATCH_SIZE, DEFAULT_SEED, catalog_seed

LOG_EVERY_SECONDS = 2.0


class RateColumn(ProgressColumn):
    """Render the task's smoothed speed as products per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} products/s", style="progress.data.speed")


@contextmanager
def rich_progress(stdout: OutputWrapper) -> Iterator[Callable[[int, int], None]]:
    """Yield a progress callback drawing a live bar with rate and ETA (for terminals)."""
    columns = (
        TextColumn("[bold]seeding"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    # OutputWrapper appends newlines to every write, which would break the live redraw.
    with Progress(*columns, console=Console(file=stdout._out)) as bar:
        task = bar.add_task("seed", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def log_progress(stdout: OutputWrapper) -> Iterator[Callable[[int, int], None]]:
    """Yield a progress callback writing a plain line every few seconds (for logs and pipes)."""
    started = last = time.monotonic()

    def update(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < LOG_EVERY_SECONDS and done < total:
            return
        last = now
        rate = done / (now - started) if now > started else 0.0
        eta = (total - done) / rate if rate else 0.0
        stdout.write(
            f"seed_catalog: {done:,}/{total:,} products ({done / total:.0%}), "
            f"{rate:,.0f} products/s, ETA {eta:,.0f}s"
        )

    yield update


class Command(BaseCommand):
    help = "Create a realistic demo catalog; rerunning with the same seed changes nothing."

    def add_arguments(self, parser) -> None:
        # Parsed as text so that bad values raise a CommandError, never an argparse exit.
        parser.add_argument("--products", required=True, help="number of products (N >= 0)")
        parser.add_argument("--seed", default=str(DEFAULT_SEED), help="random seed (>= 0)")
        parser.add_argument(
            "--batch-size", default=str(DEFAULT_BATCH_SIZE), help="products per transaction"
        )

    def handle(self, *args, **options) -> None:
        products = whole_number("--products", options["products"], 0)
        seed = whole_number("--seed", options["seed"], 0)
        batch_size = whole_number("--batch-size", options["batch_size"], 1)
        reporter = rich_progress if self.stdout.isatty() else log_progress
        with reporter(self.stdout) as progress:
            result = catalog_seed(products, seed=seed, batch_size=batch_size, progress=progress)
        # Bulk writes send no model signals: drop every cached catalog response in one bump.
        catalog_invalidate(listing=True)
        created = result.created
        self.stdout.write(
            f"Seeded {result.products:,} products (seed {seed}; {created['products']:,} new), "
            f"{result.variants:,} variants ({created['variants']:,} new), "
            f"{result.stocks:,} stock rows ({created['stocks']:,} new), "
            f"{result.tag_links:,} tag links ({created['tag_links']:,} new) "
            f"in {result.seconds:.1f}s: {result.products_per_second:,.0f} products/s"
        )
