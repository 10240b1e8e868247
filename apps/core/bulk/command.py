"""The shared ``manage.py import_*`` command: options, progress, error report, summary, exit status.

Output: rejected rows on stderr (the first few) and in ``--errors FILE`` (all of them, CSV), the
progress bar or log lines on stderr, the summary line on stdout. Exit status 0 when every row was
written, 1 when any row was rejected or the run could not complete; never a traceback.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from apps.core.bulk.pipeline import DEFAULT_BATCH_SIZE, BatchFailed, Importer
from apps.core.bulk.progress import progress_for
from apps.core.bulk.reader import DEFAULT_MAX_LINE_BYTES, FORMATS, RowReader, SourceError
from apps.core.bulk.report import ErrorReport
from apps.core.bulk.run import bulk_run
from apps.core.cli import whole_number

MAX_AUTO_WRITERS = 2  # a third writer gained nothing on 2 cores


class BulkImportCommand(BaseCommand):
    """Subclasses set ``help`` and build their importer in ``importer()``.

    An importer may set ``batch_size``: its rows per transaction when ``--batch-size`` is not given.
    """

    formats: tuple[str, ...] = FORMATS

    def importer(self, options: dict[str, Any]) -> Importer:
        raise NotImplementedError

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the file to import")
        # Parsed as text so that a bad value is a CommandError, never an argparse exit.
        parser.add_argument(
            "--batch-size",
            help=f"rows per transaction (default: the importer's, else {DEFAULT_BATCH_SIZE:,})",
        )
        parser.add_argument("--errors", help="write every rejected row to this CSV file")
        parser.add_argument(
            "--format", help=f"{' or '.join(self.formats)} (default: from the file name)"
        )
        parser.add_argument(
            "--max-line-bytes",
            default=str(DEFAULT_MAX_LINE_BYTES),
            help="reject longer lines without reading them into memory",
        )
        parser.add_argument(
            "--writers",
            default="auto",
            help="batches written at once, each on its own connection (auto: one per core, "
            "at most 2; 1 inside a transaction)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress output")

    @staticmethod
    def _writers(raw: str) -> int:
        if connection.in_atomic_block:
            # Other connections would not see the caller's uncommitted rows, and each writer
            # commits on its own: inside a transaction everything stays on this connection.
            return 1
        if raw == "auto":
            return max(1, min(MAX_AUTO_WRITERS, os.cpu_count() or 1))
        return whole_number("--writers", raw, 1)

    def handle(self, *args, **options) -> None:
        max_line = whole_number("--max-line-bytes", options["max_line_bytes"], 64)
        writers = self._writers(options["writers"])
        fmt = options["format"]
        if fmt is not None and fmt not in self.formats:
            raise CommandError(f"--format must be one of {', '.join(self.formats)}, got {fmt!r}")
        try:
            importer = self.importer(options)
        except DatabaseError as error:
            raise CommandError(f"database error: {error}") from None
        raw_batch = options["batch_size"]
        if raw_batch is None:
            raw_batch = str(getattr(importer, "batch_size", DEFAULT_BATCH_SIZE))
        batch_size = whole_number("--batch-size", raw_batch, 1)
        try:
            reader = RowReader(options["file"], importer.columns, fmt=fmt, max_line_bytes=max_line)
            report = ErrorReport(self.stderr._out, options["errors"])
        except (SourceError, OSError) as error:
            raise CommandError(str(error)) from None
        reporter = progress_for(self.stderr._out, enabled=not options["no_progress"])
        try:
            with report, reporter(importer.name, reader.total_bytes, self.stderr._out) as progress:
                summary = bulk_run(
                    reader,
                    importer,
                    report=report,
                    batch_size=batch_size,
                    progress=progress,
                    writers=writers,
                )
        except (BatchFailed, SourceError) as error:
            raise CommandError(f"{importer.name}: {error}") from None
        except DatabaseError as error:
            raise CommandError(f"{importer.name}: database error: {error}") from None
        self.stdout.write(summary.line())
        if not summary.ok:
            listed = f" (all listed in {options['errors']})" if options["errors"] else ""
            what = f"{summary.rejected:,} of {summary.read:,} rows" if summary.rejected else "file"
            raise CommandError(f"{importer.name}: {what} rejected{listed}", returncode=1)
