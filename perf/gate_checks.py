"""The perf gate's judgement: thresholds, Locust's statistics, and one verdict per gate.

Pure functions over files, so that each rule is tested on its own (perf/tests/test_gate_checks.py)
without a server.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

THRESHOLDS = Path(__file__).with_name("thresholds.toml")
AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class Gate:
    """One check of the run: what was measured, the limit, and whether it held."""

    scenario: str
    name: str
    value: float | str
    threshold: str
    passed: bool


@dataclass(frozen=True)
class Row:
    """One line of Locust's ``*_stats.csv``: a request name, or the aggregate."""

    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float


def thresholds_load(path: Path = THRESHOLDS) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _number(value: str) -> float:
    return 0.0 if value in ("", "N/A") else float(value)


def stats_read(path: Path) -> dict[str, Row]:
    """Read Locust's ``<prefix>_stats.csv`` into rows by request name."""
    rows = {}
    with path.open(newline="") as handle:
        for line in csv.DictReader(handle):
            rows[line["Name"]] = Row(
                name=line["Name"],
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                rps=_number(line["Requests/s"]),
                p50_ms=_number(line["50%"]),
                p95_ms=_number(line["95%"]),
            )
    if AGGREGATED not in rows:
        raise ValueError(f"{path} has no {AGGREGATED} row: not a Locust stats file")
    return rows


QUERIES = "queries"
REQUESTS = "requests"
_SQL = "django_db_execute_total"
_ORM_CACHE = "shopfast_cache_requests_total"  # layer="orm", result="hit": answered by cachalot
_HTTP = "django_http_requests_total_by_method_total"


def metrics_totals(text: str) -> dict[str, float]:
    """Sum the ORM queries and the requests in a /metrics page (every worker, every label).

    A query counts whether PostgreSQL ran it or cachalot answered it from Redis: an N+1 on
    cached catalog tables sends no SQL, but it still costs a round trip per row.
    """
    from prometheus_client.parser import text_string_to_metric_families

    totals = {QUERIES: 0.0, REQUESTS: 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            cachalot_hit = sample.labels == {"layer": "orm", "result": "hit"}
            if sample.name == _SQL or (sample.name == _ORM_CACHE and cachalot_hit):
                totals[QUERIES] += sample.value
            elif sample.name == _HTTP:
                totals[REQUESTS] += sample.value
    return totals


def queries_gate(
    scenario: str, before: dict[str, float], after: dict[str, float], limit: float
) -> Gate:
    """Judge ORM queries per request over a run: deterministic enough to catch an N+1."""
    requests = after[REQUESTS] - before[REQUESTS]
    queries = after[QUERIES] - before[QUERIES]
    per_request = queries / requests if requests else float("inf")
    return Gate(
        scenario,
        "queries per request (SQL + cachalot hits)",
        round(per_request, 3),
        f"<= {limit} ({queries:.0f} over {requests:.0f} requests)",
        per_request <= limit,
    )


def ceiling_p95(rows: list[dict[str, Row]]) -> float:
    """The ceiling's p95 in ms over its runs (at least 1 ms: Locust rounds to whole ms)."""
    if not rows:
        raise ValueError("no ceiling was measured")
    return max(1.0, sum(r[AGGREGATED].p95_ms for r in rows) / len(rows))


def scenario_gates(
    scenario: str, rows: dict[str, Row], limits: dict, ceiling_rps: float, ceiling_p95_ms: float
) -> list[Gate]:
    """Judge one scenario's statistics against its section of the thresholds."""
    total = rows[AGGREGATED]
    gates = []
    ratio = total.failures / total.requests if total.requests else 1.0
    gates.append(
        Gate(
            scenario,
            "failure ratio",
            round(ratio, 5),
            f"<= {limits['failure_ratio_max']} ({total.failures} of {total.requests})",
            total.requests > 0 and ratio <= limits["failure_ratio_max"],
        )
    )
    floor = limits["throughput_floor"] * ceiling_rps
    gates.append(
        Gate(
            scenario,
            "throughput req/s",
            round(total.rps, 1),
            f">= {limits['throughput_floor']} x ceiling {ceiling_rps:.0f} = {floor:.1f}",
            total.rps >= floor,
        )
    )
    times = limits["p95_x_ceiling"]
    for name, row in sorted(rows.items()):
        if name == AGGREGATED:
            continue
        if name not in times:
            gates.append(Gate(scenario, f"p95 {name}", row.p95_ms, "no threshold set", False))
            continue
        limit = times[name] * ceiling_p95_ms
        gates.append(
            Gate(
                scenario,
                f"p95 {name}",
                row.p95_ms,
                f"<= {limit:.0f} ms ({times[name]} x ceiling p95 {ceiling_p95_ms:.1f} ms)",
                row.p95_ms <= limit,
            )
        )
    for name, least in sorted(limits.get("min_requests", {}).items()):
        count = rows[name].requests if name in rows else 0
        gates.append(Gate(scenario, f"requests {name}", count, f">= {least}", count >= least))
    return gates
