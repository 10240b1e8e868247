"""ErrorReport and RunSummary: every rejected row kept, a short echo, one summary line."""

import io

from apps.core.bulk.report import ECHO_LIMIT, ErrorReport, RowError, RunSummary, value_preview


def test_the_error_file_has_every_row_and_the_echo_only_the_first_ones(tmp_path):
    stream, path = io.StringIO(), tmp_path / "errors.csv"
    errors = [RowError(n + 2, "price", f"bad price {n}") for n in range(ECHO_LIMIT + 15)]

    with ErrorReport(stream, path) as report:
        report.add(reversed(errors[:10]))  # added out of order within a batch
        report.add(errors[10:])

    lines = path.read_text().splitlines()
    assert lines[0] == "line,column,reason"
    assert lines[1:] == [f"{e.line},price,bad price {e.line - 2}" for e in errors]
    echoed = stream.getvalue().splitlines()
    assert echoed[:2] == ["line 2, column price: bad price 0", "line 3, column price: bad price 1"]
    assert len(echoed) == ECHO_LIMIT + 1
    assert echoed[-1] == "... and 15 more rejected rows"
    assert report.count == ECHO_LIMIT + 15


def test_an_error_without_a_column_reads_as_a_line_error():
    stream = io.StringIO()
    with ErrorReport(stream) as report:
        report.add([RowError(7, "", "expected 3 fields, found 2")] * 10)

    assert stream.getvalue().splitlines()[0] == "line 7: expected 3 fields, found 2"


def test_a_huge_bad_value_is_quoted_short():
    preview = value_preview("x" * 10_000)

    assert len(preview) <= 40
    assert preview.startswith("'xxx") and preview.endswith("...'")


def test_the_summary_line_gives_counts_and_rows_per_second():
    summary = RunSummary("import_stock", read=1_000_000, written=999_990, rejected=10, seconds=8.0)

    assert summary.line() == (
        "import_stock: 1,000,000 rows read, 999,990 written, 10 rejected in 8.0s (125,000 rows/s)"
    )
    assert not summary.ok
    assert RunSummary("import_prices").rows_per_second == 0
