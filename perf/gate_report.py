"""The perf gate's report: a Markdown summary of every gate and a plot of each run over time."""

from __future__ import annotations

import csv
from pathlib import Path

from perf.gate_checks import AGGREGATED, Gate


def summary_markdown(gates: list[Gate], facts: dict[str, object], plot: str | None) -> str:
    """Return the summary: the verdict, the run's facts, then one table row per gate."""
    failed = [g for g in gates if not g.passed]
    verdict = "PASSED" if not failed else f"FAILED ({len(failed)} of {len(gates)} gates)"
    lines = [f"# perf gate: {verdict}", ""]
    lines += [f"- {name}: {value}" for name, value in facts.items()]
    lines += ["", "| scenario | gate | value | threshold | result |", "|---|---|---:|---|---|"]
    lines += [
        f"| {g.scenario} | {g.name} | {g.value} | {g.threshold} | {'ok' if g.passed else 'FAIL'} |"
        for g in gates
    ]
    if plot:
        lines += ["", f"![throughput and latency over time]({plot})"]
    return "\n".join(lines) + "\n"


def history_read(path: Path) -> dict[str, list[float]]:
    """Read the aggregate rows of Locust's ``*_stats_history.csv`` as columns over time."""
    columns: dict[str, list[float]] = {"t": [], "rps": [], "p50": [], "p95": []}
    start = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != AGGREGATED or row["50%"] in ("", "N/A"):
                continue
            stamp = float(row["Timestamp"])
            start = stamp if start is None else start
            columns["t"].append(stamp - start)
            columns["rps"].append(float(row["Requests/s"]))
            columns["p50"].append(float(row["50%"]))
            columns["p95"].append(float(row["95%"]))
    return columns


def plot_write(histories: dict[str, Path], path: Path) -> None:
    """Plot requests/s and p50/p95 over time, one column per run, into the PNG ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        2, len(histories), figsize=(5 * len(histories), 6), squeeze=False, sharex="col"
    )
    for column, (name, source) in enumerate(histories.items()):
        data = history_read(source)
        top, bottom = axes[0][column], axes[1][column]
        top.plot(data["t"], data["rps"], color="tab:blue")
        top.set_title(name)
        top.set_ylabel("requests/s")
        top.set_ylim(bottom=0)
        bottom.plot(data["t"], data["p50"], label="p50", color="tab:green")
        bottom.plot(data["t"], data["p95"], label="p95", color="tab:red")
        bottom.set_ylabel("ms (10 s window)")
        bottom.set_xlabel("seconds")
        bottom.set_ylim(bottom=0)
        bottom.legend(loc="upper right")
        for axis in (top, bottom):
            axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
