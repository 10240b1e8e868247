"""Sales of paid orders per day and per SKU over a period, as CSV or JSON (one query)."""

from __future__ import annotations

import sys
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import date
from importlib.util import find_spec
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.orders.reports import csv_write, json_write, sales_rows

MAX_DAYS = 3660  # ten years: a typo in a year is an error, not a scan of the whole table


def _day(option: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, got {raw!r}") from None


class Command(BaseCommand):
    help = (
        "Revenue, orders and units of paid orders per day and per SKU, from --from to --to "
        "(inclusive, UTC days), streamed as CSV or JSON."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--format", default="csv", help="csv (default) or json")
        parser.add_argument("--output", help="write to this file instead of stdout")

    def handle(self, *args, first, last, format, output, **options) -> None:
        first, last = _day("--from", first), _day("--to", last)
        if last < first:
            raise CommandError(f"--to {last} is before --from {first}")
        if (last - first).days >= MAX_DAYS:
            raise CommandError(f"at most {MAX_DAYS} days at once")
        if format not in ("csv", "json"):
            raise CommandError(f"--format must be csv or json, got {format!r}")
        with ExitStack() as stack:
            try:
                out = (
                    stack.enter_context(Path(output).open("w", newline="", encoding="utf-8"))
                    if output
                    else self.stdout
                )
            except OSError as error:
                raise CommandError(f"cannot write {output}: {error.strerror}") from None
            days = (last - first).days + 1
            seen = stack.enter_context(self._progress(days, to_file=bool(output)))
            rows = sales_rows(first, last)
            if format == "csv":
                count = csv_write(rows, out, seen)
            else:
                period = {"from": first.isoformat(), "to": last.isoformat()}
                count = json_write(rows, out, seen, period)
        if output:
            self.stderr.write(f"sales_report: {count} rows written to {output}")

    def _progress(self, days: int, *, to_file: bool):
        """A bar over the period's days on a terminal (stderr) when the report goes to a file."""
        if not (to_file and sys.stderr.isatty() and find_spec("rich")):
            return nullcontext(lambda row: None)
        return _bar(days)


@contextmanager
def _bar(days: int):
    """Advance a bar per day with sales; the SKU and total rows finish it."""
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("sales by day", total=days)

        def seen(row) -> None:
            if row.kind == "day":
                progress.advance(task)
            else:
                progress.update(task, completed=days)

        yield seen
