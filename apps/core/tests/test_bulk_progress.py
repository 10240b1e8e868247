"""Progress: a rich bar on a terminal, plain periodic lines otherwise, nothing when disabled."""

import io

from apps.core.bulk.progress import bar_progress, log_progress, no_progress, progress_for


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_bar_a_pipe_gets_log_lines_and_disabled_gets_nothing():
    assert progress_for(Terminal()) is bar_progress
    assert progress_for(io.StringIO()) is log_progress
    assert progress_for(Terminal(), enabled=False) is no_progress
    assert progress_for(None) is no_progress


def test_log_lines_show_rows_share_of_the_file_rate_and_eta():
    stream = io.StringIO()
    with log_progress("import_stock", 1000, stream, every=0) as update:
        for step in range(1, 11):
            update(step * 500, step * 100)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[4].startswith("import_stock: 2,500 rows (50% of the file), ")
    assert "rows/s, ETA" in lines[4]


def test_log_lines_are_spaced_out_in_time():
    stream = io.StringIO()
    with log_progress("import_stock", 1000, stream, every=3600) as update:
        for step in range(1, 11):
            update(step, step * 100)

    assert stream.getvalue() == ""


def test_the_bar_draws_rows_per_second_on_a_terminal():
    stream = Terminal()
    with bar_progress("import_catalog", 1000, stream) as update:
        for step in range(1, 11):
            update(step * 10, step * 100)

    assert "import_catalog" in stream.getvalue()
    assert "100 rows" in stream.getvalue()
    assert "/s" in stream.getvalue()
