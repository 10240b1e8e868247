"""Stream a CSV or JSONL file as numbered rows; every bad line becomes a ``RowError``.

Lines are read as bytes with a length cap (``readline(limit)``), so a 50 MB single line costs at
most ``max_line_bytes`` of memory and becomes one reported error. Each line is decoded on its own:
broken UTF-8 rejects that row and names its column. Line numbers are physical lines (the header
is line 1); a CSV row whose quoted field spans lines is numbered by its first line.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

import orjson

from apps.core.bulk.report import RowError, value_preview

DEFAULT_MAX_LINE_BYTES = 1 << 20
CHUNK = 1 << 20
FORMATS = ("csv", "jsonl")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")

Row = tuple[int, tuple[str, ...]]  # (line, values in the order of ``columns``)


class SourceError(Exception):
    """The file cannot be read at all (missing, a directory, unreadable)."""


def source_format(path: str | Path, fmt: str | None = None) -> str:
    """Return ``fmt`` if given, else guess it from the file name (JSONL suffixes, else CSV)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise SourceError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    return "jsonl" if str(path).lower().endswith(JSONL_SUFFIXES) else "csv"


NUL_REASON = "contains a NUL character, which PostgreSQL cannot store"


def _unstorable(text: str) -> bool:
    """Whether ``text`` has a NUL or an undecodable byte (kept as a lone surrogate)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class RowReader:
    """Iterate over ``Row`` tuples and ``RowError``s of one file, in line order.

    ``columns`` are required (a missing one rejects the whole file at line 1); extra columns are
    ignored. ``bytes_read``/``total_bytes`` drive the progress bar.
    """

    def __init__(
        self,
        path: str | Path,
        columns: Sequence[str],
        *,
        fmt: str | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        list_separator: str = "|",
    ) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.format = source_format(path, fmt)
        self.max_line_bytes = max_line_bytes
        self.list_separator = list_separator
        self.bytes_read = 0
        self.rows_read = 0
        try:
            self.total_bytes = os.stat(self.path).st_size
            if not self.path.is_file():
                raise SourceError(f"{self.path}: not a regular file")
        except OSError as error:
            raise SourceError(f"{self.path}: {error.strerror or error}") from error
        self._line = 0
        self._pending: list[RowError] = []  # errors of lines that never reach a row
        self._broken: tuple[int, str] | None = None  # first undecodable line since the last row

    def __iter__(self) -> Iterator[Row | RowError]:
        try:
            with open(self.path, "rb") as handle:
                yield from (self._csv(handle) if self.format == "csv" else self._jsonl(handle))
        except OSError as error:
            raise SourceError(f"{self.path}: {error.strerror or error}") from error

    # --- lines ------------------------------------------------------------------------------------
    def _raw_lines(self, handle: BinaryIO) -> Iterator[bytes | None]:
        """Yield each physical line as bytes, or None for a line over the length cap."""
        limit = self.max_line_bytes
        readline = handle.readline
        while raw := readline(limit + 1):
            self._line += 1
            self.bytes_read += len(raw)
            if len(raw) <= limit or raw.endswith(b"\n"):
                yield raw
                continue
            size = len(raw)
            while raw and not raw.endswith(b"\n"):  # skip the rest without keeping it
                raw = readline(CHUNK)
                size += len(raw)
                self.bytes_read += len(raw)
            reason = f"line is {size:,} bytes long, over the {limit:,}-byte limit"
            self._pending.append(RowError(self._line, "", f"{reason} (--max-line-bytes)"))
            yield None

    def _text_lines(self, handle: BinaryIO) -> Iterator[str]:
        """Decode each line on its own; a broken one is kept (surrogate-escaped) and flagged."""
        for raw in self._raw_lines(handle):
            if raw is None:
                yield "\n"  # an empty line: the csv module skips it
                continue
            try:
                text = raw.decode()
                if "\x00" in text and self._broken is None:
                    self._broken = (self._line, NUL_REASON)
                yield text
            except UnicodeDecodeError as error:
                if self._broken is None:
                    bad = raw[error.start : error.start + 1].hex()
                    reason = f"invalid UTF-8 (byte 0x{bad} at position {error.start + 1})"
                    self._broken = (self._line, reason)
                yield raw.decode("utf-8", "surrogateescape")

    def _flush(self) -> Iterator[RowError]:
        if self._pending:
            self.rows_read += len(self._pending)  # each one is a line that was a row
            yield from self._pending
            self._pending.clear()

    # --- CSV --------------------------------------------------------------------------------------
    def _csv(self, handle: BinaryIO) -> Iterator[Row | RowError]:
        if csv.field_size_limit() < self.max_line_bytes:
            csv.field_size_limit(self.max_line_bytes)
        records = csv.reader(self._text_lines(handle), strict=True)
        header = self._csv_header(records)
        if isinstance(header, RowError):
            yield from self._flush()
            yield header
            return
        positions, width = header
        pick = itemgetter(*positions) if len(positions) > 1 else lambda r: (r[positions[0]],)
        while True:
            start = self._line + 1
            try:
                record = next(records)
            except StopIteration:
                break
            except csv.Error as error:
                yield from self._flush()
                self.rows_read += 1
                self._broken = None
                yield RowError(start, "", f"malformed CSV: {error}")
                continue
            if self._pending:
                yield from self._flush()
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line
            self.rows_read += 1
            if self._broken is not None:
                yield self._broken_row(record, positions)
            elif len(record) != width:
                yield RowError(start, "", f"expected {width} fields, found {len(record)}")
            else:
                yield start, pick(record)
        yield from self._flush()

    def _csv_header(self, records: Iterator[list[str]]) -> tuple[list[int], int] | RowError:
        try:
            header = next(records, None)
            while header is not None and not "".join(header).strip():  # leading blank lines
                header = next(records, None)
        except csv.Error as error:
            return RowError(self._line, "", f"malformed CSV header: {error}")
        if header is None:
            return RowError(
                1,
                "",
                "empty file: expected a header line with the columns " + ", ".join(self.columns),
            )
        line = self._line
        if self._pending:
            error = self._pending[0]
            self._pending.clear()
            return RowError(error.line, "", f"header: {error.reason}")
        if self._broken is not None:
            return RowError(line, "", f"header: {self._broken[1]}")
        names = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
        missing = [name for name in self.columns if name not in names]
        if missing:
            return RowError(line, "", f"missing column(s): {', '.join(missing)}")
        duplicated = sorted({name for name in names if name and names.count(name) > 1})
        if duplicated:
            return RowError(line, "", f"duplicate column(s): {', '.join(duplicated)}")
        return [names.index(name) for name in self.columns], len(names)

    def _broken_row(self, record: list[str], positions: list[int]) -> RowError:
        line, reason = self._broken
        self._broken = None
        bad = [
            self.columns[n]
            for n, i in enumerate(positions)
            if i < len(record) and _unstorable(record[i])
        ]
        return RowError(line, bad[0] if bad else "", reason)

    # --- JSONL ------------------------------------------------------------------------------------
    def _jsonl(self, handle: BinaryIO) -> Iterator[Row | RowError]:
        seen_any = False
        for raw in self._raw_lines(handle):
            yield from self._flush()
            line = self._line
            if raw is None:
                seen_any = True
                continue
            if not raw.strip():
                continue
            seen_any = True
            self.rows_read += 1
            try:
                item = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as bad:
                    yield RowError(
                        line,
                        "",
                        f"invalid UTF-8 (byte 0x"
                        f"{raw[bad.start : bad.start + 1].hex()} at position "
                        f"{bad.start + 1})",
                    )
                else:
                    yield RowError(line, "", f"invalid JSON: {error}")
                continue
            if not isinstance(item, dict):
                yield RowError(line, "", f"expected a JSON object, got {type(item).__name__}")
                continue
            row = self._json_values(line, item)
            yield row
        yield from self._flush()
        if not seen_any:
            yield RowError(1, "", "empty file: expected one JSON object per line")

    def _json_values(self, line: int, item: dict) -> Row | RowError:
        values = []
        for name in self.columns:
            if name not in item:
                return RowError(line, name, "missing column")
            value = item[name]
            if isinstance(value, str):
                if "\x00" in value:
                    return RowError(line, name, NUL_REASON)
                values.append(value)
            elif value is None:
                values.append("")
            elif isinstance(value, bool | dict):
                return RowError(
                    line, name, f"expected a string or a number, got {value_preview(value)}"
                )
            elif isinstance(value, int | float):
                values.append(str(value))
            elif all(isinstance(part, str) for part in value):  # a list of strings
                values.append(self.list_separator.join(value))
            else:
                return RowError(
                    line, name, f"expected a list of strings, got {value_preview(value)}"
                )
        return line, tuple(values)
