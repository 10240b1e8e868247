"""Rejected rows (line, column, reason) and the one-line summary of a bulk run."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

# Enough to see what is wrong on a terminal; the error file (if any) has every row.
ECHO_LIMIT = 20
MAX_REASON_CHARS = 300


class RowError(NamedTuple):
    """Why the row starting on ``line`` (1-based, the header is line 1) was rejected."""

    line: int
    column: str
    reason: str


def value_preview(value: object, limit: int = 40) -> str:
    """Quote a bad value for a reason text, shortened so a huge field stays a short message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


class ErrorReport:
    """Stream rejected rows to a CSV file and echo the first few to ``stream`` (stderr)."""

    def __init__(self, stream: IO[str] | None, path: Path | str | None = None) -> None:
        self.stream = stream
        self.count = 0
        self._file = open(path, "w", newline="", encoding="utf-8") if path else None  # noqa: SIM115
        self._writer = csv.writer(self._file) if self._file else None
        if self._writer:
            self._writer.writerow(("line", "column", "reason"))

    def add(self, errors: Iterable[RowError]) -> None:
        """Record ``errors`` in line order; memory stays flat however many there are."""
        for error in sorted(errors):
            reason = error.reason[:MAX_REASON_CHARS]
            self.count += 1
            if self._writer:
                self._writer.writerow((error.line, error.column, reason))
            if self.stream is not None and self.count <= ECHO_LIMIT:
                where = f", column {error.column}" if error.column else ""
                self.stream.write(f"line {error.line}{where}: {reason}\n")

    def close(self) -> None:
        """Flush the error file and say how many errors the echo left out."""
        if self._file:
            self._file.close()
            self._file = None
        if self.stream is not None and self.count > ECHO_LIMIT:
            self.stream.write(f"... and {self.count - ECHO_LIMIT:,} more rejected rows\n")

    def __enter__(self) -> ErrorReport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class RunSummary:
    """Counts and timing of one run; ``rejected`` counts rows, not error lines."""

    name: str
    read: int = 0
    written: int = 0
    rejected: int = 0
    errors: int = 0  # reported errors: several per row, or one for a file rejected as a whole
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.errors == 0

    def line(self) -> str:
        return (
            f"{self.name}: {self.read:,} rows read, {self.written:,} written, {self.rejected:,} "
            f"rejected in {self.seconds:.1f}s ({self.rows_per_second:,.0f} rows/s)"
        )
