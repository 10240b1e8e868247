"""RowReader: CSV and JSONL rows with their line numbers; each bad line a RowError."""

import json
import tracemalloc

import pytest

from apps.core.bulk.reader import RowReader, SourceError, source_format
from apps.core.bulk.report import RowError

COLUMNS = ("sku", "price", "tags")


def read(path, columns=COLUMNS, **options):
    return list(RowReader(path, columns, **options))


def errors_of(items):
    return [item for item in items if isinstance(item, RowError)]


def rows_of(items):
    return [item for item in items if not isinstance(item, RowError)]


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str | bytes, name: str = "feed.csv"):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path

    return write


def test_csv_rows_come_in_column_order_with_their_line_numbers(csv_file):
    lines = ["tags,price,sku,extra"] + [f"t{n},{n}.50,SKU-{n},x" for n in range(12)]
    items = read(csv_file("\n".join(lines) + "\n"))

    assert errors_of(items) == []
    assert rows_of(items) == [(n + 2, (f"SKU-{n}", f"{n}.50", f"t{n}")) for n in range(12)]


def test_a_quoted_field_spanning_lines_keeps_the_line_of_its_row_start(csv_file):
    text = 'sku,price,tags\nA,1,x\nB,2,"one\ntwo\nthree"\nC,3,y\n'
    items = read(csv_file(text))

    assert rows_of(items) == [
        (2, ("A", "1", "x")),
        (3, ("B", "2", "one\ntwo\nthree")),
        (6, ("C", "3", "y")),
    ]


def test_header_names_are_matched_without_case_spaces_or_a_byte_order_mark(csv_file):
    items = read(csv_file("\ufeff SKU , Price,TAGS\nA,1,x\n"))

    assert items == [(2, ("A", "1", "x"))]


def test_blank_lines_are_skipped_and_not_counted_as_rows(csv_file):
    reader = RowReader(csv_file("sku,price,tags\n\nA,1,x\n\n\nB,2,y\n"), COLUMNS)
    items = list(reader)

    assert items == [(3, ("A", "1", "x")), (6, ("B", "2", "y"))]
    assert reader.rows_read == 2


def test_missing_columns_reject_the_whole_file_at_line_one(csv_file):
    items = read(csv_file("sku,quantity\nA,1\nB,2\n"))

    assert items == [RowError(1, "", "missing column(s): price, tags")]


def test_a_duplicated_header_column_rejects_the_file(csv_file):
    items = read(csv_file("sku,price,tags,price\nA,1,x,2\n"))

    assert items == [RowError(1, "", "duplicate column(s): price")]


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_an_empty_file_is_one_error_on_line_one(csv_file, text):
    items = read(csv_file(text))

    assert len(items) == 1
    assert items[0].line == 1
    assert items[0].reason.startswith("empty file")


def test_a_row_with_too_few_or_too_many_fields_is_rejected_alone(csv_file):
    items = read(csv_file("sku,price,tags\nA,1,x\nB,2\nC,3,y,z\nD,4,w\n"))

    assert rows_of(items) == [(2, ("A", "1", "x")), (5, ("D", "4", "w"))]
    assert errors_of(items) == [
        RowError(3, "", "expected 3 fields, found 2"),
        RowError(4, "", "expected 3 fields, found 4"),
    ]


def test_broken_utf8_rejects_only_its_row_and_names_the_column(csv_file):
    text = b"sku,price,tags\nA,1,x\nB,2,caf\xe9\nC,3,y\n"
    items = read(csv_file(text))

    assert rows_of(items) == [(2, ("A", "1", "x")), (4, ("C", "3", "y"))]
    [error] = errors_of(items)
    assert (error.line, error.column) == (3, "tags")
    assert "invalid UTF-8" in error.reason and "0xe9" in error.reason


def test_a_nul_character_rejects_its_row(csv_file):
    items = read(csv_file("sku,price,tags\nA\x00B,1,x\nC,3,y\n"))

    assert rows_of(items) == [(3, ("C", "3", "y"))]
    assert errors_of(items)[0][:2] == (2, "sku")


def test_a_malformed_quote_is_reported_and_reading_goes_on(csv_file):
    items = read(csv_file('sku,price,tags\nA,1,"x"y\nB,2,z\n'))

    assert errors_of(items)[0].line == 2
    assert "malformed CSV" in errors_of(items)[0].reason
    assert rows_of(items) == [(3, ("B", "2", "z"))]


def test_a_50_mb_single_line_is_one_error_read_in_bounded_memory(csv_file, tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(b"sku,price,tags\nA,1,x\nB,2,")
        handle.write(b"y" * (50 * 1024 * 1024))
        handle.write(b"\nC,3,z\n")
    tracemalloc.start()
    try:
        reader = RowReader(path, COLUMNS, max_line_bytes=1 << 20)
        items = list(reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert rows_of(items) == [(2, ("A", "1", "x")), (4, ("C", "3", "z"))]
    [error] = errors_of(items)
    assert error.line == 3
    assert "over the 1,048,576-byte limit" in error.reason
    assert peak < 8 * 1024 * 1024
    assert reader.rows_read == 3
    assert reader.bytes_read == path.stat().st_size


def test_an_oversized_header_line_rejects_the_file(csv_file):
    items = read(csv_file("sku,price,tags" + "," * 200 + "\nA,1,x\n"), max_line_bytes=100)

    assert len(items) == 1
    assert items[0].line == 1
    assert items[0].reason.startswith("header: line is")


def test_jsonl_rows_take_strings_numbers_and_lists(tmp_path):
    path = tmp_path / "feed.jsonl"
    objects = [{"sku": f"S{n}", "price": n + 0.5, "tags": ["a", "b"], "x": 1} for n in range(10)]
    path.write_text("\n".join(json.dumps(o) for o in objects) + "\n\n")

    items = read(path)

    assert items == [(n + 1, (f"S{n}", f"{n}.5", "a|b")) for n in range(10)]


def test_bad_jsonl_lines_are_reported_each_with_its_reason(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(
        b'{"sku": "A", "price": "1", "tags": ""}\n'
        b'{"sku": "B", "price": \n'
        b"[1, 2]\n"
        b'{"sku": "C", "price": "1"}\n'
        b'{"sku": "D", "price": true, "tags": ""}\n'
        b'{"sku": "E", "price": "1", "tags": [1]}\n'
        b'{"sku": "caf\xe9", "price": "1", "tags": ""}\n'
        b'{"sku": "F\\u0000", "price": "1", "tags": ""}\n'
        b'{"sku": "G", "price": null, "tags": ""}\n'
    )

    items = read(path)

    assert rows_of(items) == [(1, ("A", "1", "")), (9, ("G", "", ""))]
    errors = {error.line: error for error in errors_of(items)}
    assert errors[2].reason.startswith("invalid JSON")
    assert errors[3].reason == "expected a JSON object, got list"
    assert errors[4][1:] == ("tags", "missing column")
    assert errors[5].column == "price"
    assert errors[6].column == "tags"
    assert "invalid UTF-8" in errors[7].reason
    assert "NUL" in errors[8].reason


def test_an_empty_jsonl_file_is_one_error(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text("\n \n")

    assert read(path) == [RowError(1, "", "empty file: expected one JSON object per line")]


def test_the_format_comes_from_the_option_or_else_the_file_name():
    assert source_format("a.csv") == "csv"
    assert source_format("a.JSONL") == "jsonl"
    assert source_format("a.ndjson") == "jsonl"
    assert source_format("a.txt") == "csv"
    assert source_format("a.csv", "jsonl") == "jsonl"
    with pytest.raises(SourceError):
        source_format("a.csv", "xml")


def test_a_missing_file_or_a_directory_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="No such file"):
        RowReader(tmp_path / "nope.csv", COLUMNS)
    with pytest.raises(SourceError, match="not a regular file"):
        RowReader(tmp_path, COLUMNS)
