"""``manage.py export_catalog [--format csv|jsonl] [--output FILE]``: the catalog, importable."""

from __future__ import annotations

import sys
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from apps.catalog.exports import DEFAULT_CHUNK_SIZE, EXPORT_FORMATS, catalog_export
from apps.catalog.models import Variant
from apps.core.bulk.progress import progress_for


class Command(BaseCommand):
    help = (
        "Write every variant as one row of the import_catalog format (CSV or JSONL) to --output "
        "or stdout, reading in keyset chunks (works behind pgbouncer in transaction mode)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", default="csv", help=" or ".join(EXPORT_FORMATS))
        parser.add_argument("--output", default="-", help="file to write (default: stdout)")
        parser.add_argument(
            "--chunk-size", default=str(DEFAULT_CHUNK_SIZE), help="variants per query"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress output")

    def handle(self, *args, **options) -> None:
        fmt = options["format"]
        if fmt not in EXPORT_FORMATS:
            raise CommandError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
        try:
            chunk_size = int(options["chunk_size"])
        except ValueError:
            chunk_size = 0
        if chunk_size < 1:
            raise CommandError(
                f"--chunk-size must be an integer >= 1, got {options['chunk_size']!r}"
            )
        output = options["output"]
        try:
            target = (
                nullcontext(self.stdout._out)
                if output == "-"
                else open(output, "w", newline="", encoding="utf-8")  # noqa: SIM115
            )
        except OSError as error:
            raise CommandError(f"{output}: {error.strerror or error}") from None
        # Progress goes to stderr: stdout may be the export itself.
        err = self.stderr._out
        reporter = progress_for(err, enabled=not options["no_progress"])
        try:
            total = Variant.objects.count()
            with target as stream, reporter("export_catalog", total, err) as progress:
                rows = catalog_export(
                    stream, fmt, chunk_size=chunk_size, progress=lambda n: progress(n, n)
                )
        except DatabaseError as error:
            raise CommandError(f"export_catalog: database error: {error}") from None
        where = "stdout" if output == "-" else output
        sys.stderr.flush()
        err.write(f"export_catalog: {rows:,} rows written to {where}\n")
