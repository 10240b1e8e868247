"""The perf gate's report: a table a person reads in seconds, and a plot of each run."""

import csv
import re
from pathlib import Path

from perf.gate_checks import AGGREGATED, Gate
from perf.gate_report import history_read, plot_write, summary_markdown

LOCUSTFILES = Path(__file__).resolve().parents[2] / "locustfiles"
HISTORY = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "50%", "95%"]


def write_history(path: Path, seconds: int) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HISTORY)
        writer.writerow([1000, 0, "", AGGREGATED, 0, "N/A", "N/A"])  # before the first answer
        for t in range(seconds):
            writer.writerow([1001 + t, 10, "", AGGREGATED, 100 + t, 20, 40 + t])
            writer.writerow([1001 + t, 10, "GET", "list", 50, 20, 40])  # per name: not plotted
    return path


def test_the_summary_says_the_verdict_first_and_marks_each_failed_gate():
    gates = [
        Gate("mixed", "failure ratio", 0.0, "<= 0.0", True),
        Gate("mixed", "p95 list", 300.0, "<= 250 ms", False),
    ]
    text = summary_markdown(gates, {"ceiling req/s": 2500}, "timeline.png")
    assert text.startswith("# perf gate: FAILED (1 of 2 gates)\n")
    assert "- ceiling req/s: 2500" in text
    assert "| mixed | p95 list | 300.0 | <= 250 ms | FAIL |" in text
    assert "| mixed | failure ratio | 0.0 | <= 0.0 | ok |" in text
    assert "![throughput and latency over time](timeline.png)" in text


def test_a_run_where_every_gate_held_says_passed():
    text = summary_markdown([Gate("mixed", "failure ratio", 0.0, "<= 0.0", True)], {}, None)
    assert text.startswith("# perf gate: PASSED\n")
    assert "![" not in text


def test_the_history_keeps_only_the_aggregate_rows_from_the_first_answer_on(tmp_path):
    data = history_read(write_history(tmp_path / "mixed_stats_history.csv", 5))
    assert data["t"] == [0, 1, 2, 3, 4]
    assert data["rps"] == [100, 101, 102, 103, 104]
    assert data["p95"] == [40, 41, 42, 43, 44]


def test_the_plot_is_a_png_with_one_column_per_run(tmp_path):
    histories = {
        name: write_history(tmp_path / f"{name}_stats_history.csv", 8)
        for name in ("ceiling", "mixed", "flash_sale")
    }
    plot_write(histories, tmp_path / "timeline.png")
    data = (tmp_path / "timeline.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(data[16:20], "big")
    assert width >= 3 * 400  # three columns side by side


def test_every_request_name_in_the_locustfiles_is_a_declared_group():
    from locustfiles.common import GROUPS

    names = set()
    for path in LOCUSTFILES.glob("*.py"):
        names |= set(re.findall(r'name="([^"]+)"', path.read_text()))
    names |= {"checkout", "checkout:replay"}  # flash_sale.py passes them as arguments
    assert names, "no request names found: the pattern no longer matches the locustfiles"
    assert names <= set(GROUPS), names - set(GROUPS)
