"""The perf gate's rules, each on Locust statistics written for the case."""

import csv
from pathlib import Path

import pytest

from perf.gate_checks import (
    AGGREGATED,
    QUERIES,
    REQUESTS,
    THRESHOLDS,
    ceiling_p95,
    metrics_totals,
    queries_gate,
    scenario_gates,
    stats_read,
    thresholds_load,
)

COLUMNS = ["Type", "Name", "Request Count", "Failure Count", "Requests/s", "50%", "95%"]
LIMITS = {
    "failure_ratio_max": 0.0,
    "throughput_floor": 0.2,
    "p95_x_ceiling": {"list": 10, "checkout": 30},
    "min_requests": {"checkout": 10},
}


def write_stats(path: Path, rows: list[tuple[str, int, int, float, float, float]]) -> Path:
    """Write a ``_stats.csv`` with the given (name, requests, failures, rps, p50, p95) rows."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for name, requests, failures, rps, p50, p95 in rows:
            writer.writerow(
                ["GET" if name != AGGREGATED else "", name, requests, failures, rps, p50, p95]
            )
    return path


def healthy(tmp_path: Path, **changes) -> dict:
    rows = {
        "list": ("list", 900, 0, 90.0, 20, 60),
        "checkout": ("checkout", 100, 0, 10.0, 50, 200),
        AGGREGATED: (AGGREGATED, 1000, 0, 100.0, 22, 80),
    }
    rows.update(changes)
    return stats_read(write_stats(tmp_path / "run_stats.csv", list(rows.values())))


def failed(gates) -> list[str]:
    return [g.name for g in gates if not g.passed]


def test_a_healthy_run_passes_every_gate(tmp_path):
    gates = scenario_gates("mixed", healthy(tmp_path), LIMITS, ceiling_rps=400, ceiling_p95_ms=10.0)
    assert failed(gates) == []
    assert {g.name for g in gates} == {
        "failure ratio",
        "throughput req/s",
        "p95 list",
        "p95 checkout",
        "requests checkout",
    }


def test_one_failed_request_fails_the_run(tmp_path):
    rows = healthy(tmp_path, **{AGGREGATED: (AGGREGATED, 1000, 1, 100.0, 22, 80)})
    assert failed(scenario_gates("mixed", rows, LIMITS, 400, 10.0)) == ["failure ratio"]


def test_throughput_below_its_fraction_of_the_ceiling_fails(tmp_path):
    # 100 req/s against a floor of 0.2 x 600 = 120.
    assert failed(scenario_gates("mixed", healthy(tmp_path), LIMITS, 600, 10.0)) == [
        "throughput req/s"
    ]


def test_a_p95_above_its_threshold_fails_only_that_group(tmp_path):
    rows = healthy(tmp_path, list=("list", 900, 0, 90.0, 20, 101))
    assert failed(scenario_gates("mixed", rows, LIMITS, 400, 10.0)) == ["p95 list"]


def test_latency_limits_follow_the_ceilings_p95_in_the_same_run(tmp_path):
    rows = healthy(tmp_path, list=("list", 900, 0, 90.0, 20, 150))
    assert failed(scenario_gates("mixed", rows, LIMITS, 400, 10.0)) == ["p95 list"]
    # The same run on a machine whose ceiling answers twice as slowly: the limit follows it.
    assert failed(scenario_gates("mixed", rows, LIMITS, 400, 20.0)) == []


def test_the_ceilings_p95_is_the_mean_of_its_runs_and_never_under_a_millisecond(tmp_path):
    def ceiling(p95: float) -> dict:
        row = (AGGREGATED, 100, 0, 100.0, 1, p95)
        return stats_read(write_stats(tmp_path / f"c{p95}_stats.csv", [row]))

    assert ceiling_p95([ceiling(18), ceiling(22)]) == 20.0
    assert ceiling_p95([ceiling(0)]) == 1.0
    with pytest.raises(ValueError):
        ceiling_p95([])


def test_a_request_group_without_a_threshold_fails(tmp_path):
    rows = healthy(tmp_path, search=("search", 5, 0, 1.0, 10, 20))
    assert failed(scenario_gates("mixed", rows, LIMITS, 400, 10.0)) == ["p95 search"]


def test_too_few_checkouts_fail_the_run_instead_of_passing_it_vacuously(tmp_path):
    rows = healthy(tmp_path, checkout=("checkout", 3, 0, 0.3, 50, 200))
    assert failed(scenario_gates("mixed", rows, LIMITS, 400, 10.0)) == ["requests checkout"]


def test_a_file_without_the_aggregate_row_is_refused(tmp_path):
    path = write_stats(tmp_path / "broken_stats.csv", [("list", 1, 0, 1.0, 1, 1)])
    with pytest.raises(ValueError, match="Aggregated"):
        stats_read(path)


def test_every_group_the_locustfiles_send_has_a_threshold_in_each_scenario_that_sends_it():
    from locustfiles.common import GROUPS

    limits = thresholds_load(THRESHOLDS)
    deferred = {"checkout:deferred", "payments:webhook"}
    sent_by_mixed = set(GROUPS) - {"hello"} - deferred
    assert sent_by_mixed <= set(limits["mixed"]["p95_x_ceiling"])
    assert {"checkout", "checkout:replay"} <= set(limits["flash_sale"]["p95_x_ceiling"])
    assert deferred <= set(limits["deferred_sale"]["p95_x_ceiling"])
    for scenario in ("mixed", "flash_sale", "deferred_sale"):
        assert limits[scenario]["failure_ratio_max"] == 0.0  # the rule: no failure at all
        assert 0 < limits[scenario]["throughput_floor"] < 1


METRICS = """\
# TYPE django_db_execute_total counter
django_db_execute_total{alias="default",vendor="postgresql"} %(sql)s
# TYPE shopfast_cache_requests_total counter
shopfast_cache_requests_total{layer="orm",result="hit"} %(orm_hits)s
shopfast_cache_requests_total{layer="orm",result="miss"} 999.0
shopfast_cache_requests_total{layer="l1",result="hit"} 999.0
# TYPE django_http_requests_total_by_method_total counter
django_http_requests_total_by_method_total{method="GET"} %(gets)s
django_http_requests_total_by_method_total{method="POST"} 10.0
"""


def page(sql: float, orm_hits: float, gets: float) -> dict:
    return metrics_totals(METRICS % {"sql": sql, "orm_hits": orm_hits, "gets": gets})


def test_queries_count_sql_and_cachalot_hits_but_no_other_cache_layer():
    assert page(sql=100, orm_hits=50, gets=90) == {QUERIES: 150.0, REQUESTS: 100.0}


def test_queries_per_request_are_judged_over_the_run_only():
    before, after = page(100, 50, 90), page(400, 150, 290)  # +400 queries over +200 requests
    gate = queries_gate("mixed", before, after, limit=2.0)
    assert gate.passed and gate.value == 2.0


def test_an_n_plus_one_hidden_by_cachalot_still_fails_the_queries_gate():
    before = page(100, 50, 90)
    after = page(300, 50 + 24 * 100, 190)  # 24 cachalot hits per request: no SQL, same cost
    gate = queries_gate("mixed", before, after, limit=2.5)
    assert not gate.passed and gate.value == 26.0


def test_a_run_without_requests_fails_the_queries_gate():
    same = page(100, 50, 90)
    assert not queries_gate("mixed", same, same, limit=2.5).passed
