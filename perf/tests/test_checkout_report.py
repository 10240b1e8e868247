"""Reading wrk's checkout runs: Lua status lines, what makes a run invalid, the summary."""

import pytest

from perf.checkout_compare import LUA_SCRIPT
from perf.checkout_report import (
    CheckoutRun,
    markdown_table,
    parse_statuses,
    run_from_output,
    run_problems,
    summarize,
)

# Real `wrk --latency -s perf/checkout.lua` output (against a stub answering 409 now and then).
WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:18765/api/v1/checkout/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    42.43ms    8.65ms  47.95ms   95.65%
    Req/Sec    46.00      9.40    60.00     70.00%
  Latency Distribution
     50%   43.95ms
     75%   44.27ms
     90%   46.58ms
     99%    1.20s
  92 requests in 1.01s, 12.29KB read
  Non-2xx or 3xx responses: 2
Requests/sec:     91.50
Transfer/sec:     12.22KB
checkout-status 201 90
checkout-status 409 2
checkout-sample 409 {"code": "insufficient_stock", "detail": "x"}
"""


def make_run(scenario: str, round_: int, rate: float, **overrides) -> CheckoutRun:
    fields = {
        "scenario": scenario,
        "round": round_,
        "requests": 1000,
        "orders_per_sec": rate,
        "p50_ms": 10.0 + round_,
        "p99_ms": 40.0 + round_,
        "statuses": {201: 1000},
        "samples": {},
        "socket_errors": 0,
        "orders_created": 1003,
    }
    return CheckoutRun(**(fields | overrides))


def test_statuses_and_samples_are_read_from_the_lua_summary_lines():
    counts, samples = parse_statuses(WRK_OUTPUT)
    assert counts == {201: 90, 409: 2}
    assert samples == {409: '{"code": "insufficient_stock", "detail": "x"}'}


def test_output_without_the_lua_summary_is_refused():
    plain = WRK_OUTPUT.split("checkout-status")[0]
    with pytest.raises(ValueError, match="checkout-status"):
        parse_statuses(plain)


def test_the_lua_script_prints_the_lines_the_parser_reads():
    script = LUA_SCRIPT.read_text()
    assert '"checkout-status %d %d\\n"' in script
    assert '"checkout-sample %d %s\\n"' in script


def test_orders_per_second_count_only_201_responses_and_latency_is_in_ms():
    run = run_from_output(WRK_OUTPUT, "hot", 1, orders_created=92)
    assert run.orders_per_sec == pytest.approx(91.50 * 90 / 92)
    assert (run.p50_ms, run.p99_ms) == (43.95, 1200.0)
    assert run.requests == 92 and run.statuses == {201: 90, 409: 2}


def test_a_run_with_a_non_201_is_invalid_and_says_which_status_and_why():
    run = run_from_output(WRK_OUTPUT, "hot", 1, orders_created=90)
    problems = run_problems(run, connections=16)
    assert problems == [
        'hot round 1: 2 responses with status 409: {"code": "insufficient_stock", "detail": "x"}'
    ]


@pytest.mark.parametrize(
    ("created", "valid"), [(1000, True), (1016, True), (999, False), (1017, False)]
)
def test_orders_created_may_exceed_the_201s_by_at_most_the_requests_in_flight(created, valid):
    run = make_run("spread", 1, 500.0, orders_created=created)
    assert (run_problems(run, connections=16) == []) is valid


def test_socket_errors_and_unmatched_request_counts_make_a_run_invalid():
    assert run_problems(make_run("hot", 2, 1.0, socket_errors=3), 16) == [
        "hot round 2: 3 socket errors"
    ]
    assert "different number" in run_problems(make_run("hot", 2, 1.0, requests=1001), 16)[0]


def test_summary_averages_rates_takes_the_median_p50_and_the_worst_p99_per_scenario():
    runs = [make_run("spread", r, 400.0 + 10 * r) for r in range(1, 6)]
    runs += [make_run("hot", r, 300.0 + 10 * r, statuses={201: 990, 409: 10}) for r in range(1, 6)]
    summary = summarize(runs, ["spread", "hot"])
    assert summary["spread"] == {
        "orders_per_sec": 430.0,
        "p50_ms": 13.0,
        "p99_ms": 45.0,
        "orders": 5000,
        "other_statuses": 0,
        "socket_errors": 0,
    }
    assert summary["hot"]["orders_per_sec"] == 330.0
    assert (summary["hot"]["orders"], summary["hot"]["other_statuses"]) == (4950, 50)
    table = markdown_table(summary)
    assert "| spread | 430.0 | 13.00 | 45.00 | 5000 | 0 | 0 |" in table
    assert "| hot | 330.0 | 13.00 | 45.00 | 4950 | 50 | 0 |" in table
